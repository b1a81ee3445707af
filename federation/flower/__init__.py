"""The Flower app of the federation: the hub's ServerApp and each agency's ClientApp (Flower's Message API).

`server_app.app` runs at the hub (started by the SuperLink for each run), `client_app.app` at each agency
(started by its SuperNode for each message). Only model weights, example counts and metrics cross borders.
Only this package imports Flower's app API; the command line starts Flower's processes through
`federation.runtime`, which does not import Flower.
"""
