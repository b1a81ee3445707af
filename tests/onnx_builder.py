"""A tiny ONNX model written by hand (protobuf wire format), so the ONNX adapter is tested without the
`onnx` or `skl2onnx` packages: scores = softmax(x · W + b), or the logits alone."""

from __future__ import annotations

import numpy as np


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes | str | int) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint((number << 3) | 2) + _varint(len(data)) + data


FLOAT = 1


def _tensor(name: str, values: np.ndarray) -> bytes:
    values = np.ascontiguousarray(values, dtype="<f4")
    dims = b"".join(_field(1, int(d)) for d in values.shape)
    return dims + _field(2, FLOAT) + _field(8, name) + _field(9, values.tobytes())


def _value_info(name: str, shape: tuple[int | str, ...]) -> bytes:
    dims = b"".join(_field(1, _field(2, d) if isinstance(d, str) else _field(1, d)) for d in shape)
    tensor_type = _field(1, FLOAT) + _field(2, dims)
    return _field(1, name) + _field(2, _field(1, tensor_type))


def _node(op: str, inputs: list[str], outputs: list[str], attributes: bytes = b"") -> bytes:
    return b"".join(_field(1, i) for i in inputs) + b"".join(_field(2, o) for o in outputs) + _field(4, op) + attributes


def linear_model(weights: np.ndarray, bias: np.ndarray, softmax: bool = True) -> bytes:
    """ONNX bytes of x (n, d) float32 -> (n, k): x · weights + bias, then a softmax over k if asked."""
    d, k = weights.shape
    nodes = _field(1, _node("MatMul", ["x", "W"], ["xw"]))
    nodes += _field(1, _node("Add", ["xw", "b"], ["logits" if softmax else "scores"]))
    if softmax:
        axis = _field(1, "axis") + _field(3, 1) + _field(20, 2)  # AttributeProto: name, i, type INT
        nodes += _field(1, _node("Softmax", ["logits"], ["scores"], _field(5, axis)))
    graph = (
        nodes
        + _field(2, "linear")
        + _field(5, _tensor("W", weights))
        + _field(5, _tensor("b", bias))
        + _field(11, _value_info("x", ("n", d)))
        + _field(12, _value_info("scores", ("n", k)))
    )
    opset = _field(1, "") + _field(2, 13)
    return _field(1, 8) + _field(7, graph) + _field(8, opset)


__all__ = ["linear_model"]
