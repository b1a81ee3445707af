"""An ARIMA search restricted to autoregressive terms, estimated by least squares: ARIMA(p, d, 0)(P, D, 0)m.

Why not full ARIMA: moving-average terms need an iterative likelihood (statsmodels' SARIMAX ~0.15 s per
fit, statsforecast's AutoARIMA ~1.5 s per search on a monthly series, measured here), far beyond the
time `grace analyse` may spend per series. Autoregressions fit in closed form (~0.05 ms each), so the
search over orders stays below a millisecond; a long enough AR polynomial approximates an invertible
MA one. What it adds to the ETS and Theta candidates is what they cannot express: cycles that are not
seasons (sunspots), mean reversion, and serial correlation of the changes.

Orders, after Hyndman & Khandakar (2008, "Automatic time series forecasting: the forecast package for R",
J. Stat. Softw. 27(3)):
- d: repeated KPSS tests (level stationarity, 5 %, Newey-West bandwidth) — 0, 1 or 2 differences;
- D: one seasonal difference when the caller says the series is seasonal (`analytics.seasonality`, an
  STL strength test like their seasonal-strength rule), the season is at most 24 periods and three
  seasons are available;
- p in 0..p_max (p_max = min(12 for yearly/quarterly data, 5 for monthly, n / 10)), seasonal AR terms at
  lags m, 2m (P in 0..2) when seasonal and m <= 24; chosen by AICc on a common estimation sample;
- a constant when d + D <= 1 (the mean, or the drift of the differenced series), none otherwise.
Intervals: sigma^2 sum psi_j^2 from the psi weights of the full (differenced) AR polynomial.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics.normal import two_sided_z

KPSS_CRITICAL_5 = 0.463  # level-stationarity KPSS statistic, 5 % (Kwiatkowski et al. 1992, table 1)
MAX_SEASON = 24


def kpss_statistic(x: np.ndarray) -> float:
    """KPSS level-stationarity statistic with the Newey-West long-run variance, lags 4 (n / 100)^(1/4)."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    e = x - x.mean()
    s = np.cumsum(e)
    lags = int(np.floor(4 * (n / 100) ** 0.25))
    variance = float(e @ e) / n
    for k in range(1, min(lags, n - 1) + 1):
        variance += 2 * (1 - k / (lags + 1)) * float(e[k:] @ e[:-k]) / n
    if variance <= 0:
        return 0.0
    return float(s @ s) / (n * n * variance)


def differences(y: np.ndarray, max_d: int = 2) -> int:
    """How many first differences make the series level-stationary by the KPSS test (at most max_d)."""
    x = np.asarray(y, dtype=float)
    for d in range(max_d + 1):
        if len(x) < 8 or np.ptp(x) == 0 or kpss_statistic(x) < KPSS_CRITICAL_5:
            return d
        x = np.diff(x)
    return max_d


def _difference(y: np.ndarray, d: int, D: int, m: int) -> np.ndarray:
    x = np.asarray(y, dtype=float)
    for _ in range(D):
        x = x[m:] - x[:-m]
    for _ in range(d):
        x = np.diff(x)
    return x


@dataclass
class ARFit:
    d: int
    D: int
    m: int
    p: int
    P: int
    lags: np.ndarray  # the AR lags of the differenced series: 1..p, then the seasonal ones
    coef: np.ndarray  # one per lag
    constant: float
    sigma: float
    y: np.ndarray  # the history the forecasts continue from

    @property
    def label(self) -> str:
        season = f"({self.P},{self.D},0)[{self.m}]" if (self.P or self.D) else ""
        return f"ARIMA({self.p},{self.d},0){season}" + (" with constant" if self.constant else "")

    def extend(self, y: np.ndarray) -> ARFit:
        return ARFit(
            self.d,
            self.D,
            self.m,
            self.p,
            self.P,
            self.lags,
            self.coef,
            self.constant,
            self.sigma,
            np.asarray(y, float),
        )

    def polynomial(self) -> np.ndarray:
        """Coefficients a_1.. of y_t = c + sum a_i y_{t-i} + e_t on the original scale (differencing expanded)."""
        phi = np.zeros(int(self.lags.max()) + 1 if len(self.lags) else 1)
        phi[0] = 1.0
        for lag, c in zip(self.lags, self.coef):
            phi[lag] -= c
        full = phi
        for _ in range(self.d):
            full = np.convolve(full, [1.0, -1.0])
        for _ in range(self.D):
            seasonal = np.zeros(self.m + 1)
            seasonal[0], seasonal[self.m] = 1.0, -1.0
            full = np.convolve(full, seasonal)
        return -full[1:]

    def predict(self, horizon: int, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = self.polynomial()
        k = len(a)
        history = list(self.y[-k:]) if k else []
        if len(history) < k:
            history = [self.y[0]] * (k - len(history)) + history
        mean = np.empty(horizon)
        for h in range(horizon):
            value = self.constant + sum(a[i] * history[-1 - i] for i in range(k))
            mean[h] = value
            history.append(value)
        psi = np.zeros(horizon)
        psi[0] = 1.0
        for j in range(1, horizon):
            psi[j] = sum(a[i] * psi[j - 1 - i] for i in range(min(k, j)))
        sd = self.sigma * np.sqrt(np.cumsum(psi**2))
        z = two_sided_z(level)
        return mean, mean - z * sd, mean + z * sd


def auto_ar(y: np.ndarray, m: int, seasonal: bool, freq: str) -> ARFit:
    """The AR order with the lowest AICc after differencing (module docstring); raises ValueError if the
    series is too short to estimate even the constant."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    D = 1 if seasonal and 1 < m <= MAX_SEASON and n >= 3 * m + 8 else 0
    d = differences(_difference(y, 0, D, m))
    w = _difference(y, d, D, m)
    if len(w) < 6:
        raise ValueError("too short for an autoregression")
    with_constant = d + D <= 1
    p_cap = 5 if freq in ("M", "W", "D") else 12
    p_max = int(min(p_cap, len(w) // 10))
    seasonal_lags = [m * k for k in (1, 2)] if seasonal and 1 < m <= MAX_SEASON else []
    seasonal_lags = [lag for lag in seasonal_lags if lag < len(w) // 3]
    orders = [(p, P) for p in range(p_max + 1) for P in range(len(seasonal_lags) + 1)]
    start = max([p_max, *(seasonal_lags or [0])])
    if len(w) - start < 8:
        start, orders = 0, [(0, 0)]
    best = None
    for p, P in orders:
        if P and seasonal_lags[0] <= p:
            continue  # the seasonal lag is already among the first p
        lags = np.array(list(range(1, p + 1)) + seasonal_lags[:P], dtype=int)
        coef, constant, sse, used = _least_squares(w, lags, start, with_constant)
        k = len(lags) + int(with_constant) + 1
        if used - k - 1 <= 0:
            continue
        aicc = used * np.log(max(sse / used, 1e-300)) + 2 * k + 2 * k * (k + 1) / (used - k - 1)
        if best is None or aicc < best[0]:
            best = (aicc, lags, p, P)
    if best is None:
        raise ValueError("too short for an autoregression")
    _, lags, p, P = best
    begin = int(lags.max()) if len(lags) else 0
    coef, constant, sse, used = _least_squares(w, lags, begin, with_constant)
    sigma = float(np.sqrt(sse / max(1, used - len(lags) - int(with_constant))))
    # w_t = c + sum a_i w_{t-lag_i} + e_t expands to y_t = c + sum a*_i y_{t-i} + e_t with the same c
    return ARFit(d, D, m, p, P, lags, coef, constant, sigma, y)


def _least_squares(w: np.ndarray, lags: np.ndarray, start: int, with_constant: bool):
    rows = len(w) - start
    columns = [w[start - lag : len(w) - lag] for lag in lags]
    if with_constant:
        columns.append(np.ones(rows))
    target = w[start:]
    if not columns:
        return np.empty(0), 0.0, float(target @ target), rows
    X = np.column_stack(columns)
    beta, *_ = np.linalg.lstsq(X, target, rcond=None)
    residual = target - X @ beta
    coef = beta[: len(lags)]
    constant = float(beta[-1]) if with_constant else 0.0
    return coef, constant, float(residual @ residual), rows
