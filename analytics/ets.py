"""Exponential smoothing state-space models (ETS) compiled with Numba: a model search by AICc, and Theta.

Why our own: statsmodels' `ETSModel` costs ~4-20 ms per fit (one form); a search over up to 15 forms at
each of a backtest's origins would make `grace analyse` several times slower. statsforecast's `AutoETS`
(the same search) costs ~0.1 s per series and pins pandas < 3 (docs/ANALYTICS_VALIDATION.md, part 5).
Here the whole estimation (filter, likelihood, Nelder-Mead) runs inside Numba: ~0.05-0.5 ms per form.

Forms ETS(error, trend, season) after Hyndman, Koehler, Ord & Snyder (2008), *Forecasting with
Exponential Smoothing*, tables 2.2-2.3: error A/M, trend N/A/Ad (additive, optionally damped), season
N/A/M. Written with the absolute one-step error e = y - yhat, the state updates of ETS(A,*,*) and
ETS(M,*,*) coincide; the forms differ in the likelihood (multiplicative errors: -sum log|yhat| more)
and so in which parameters are estimated. Estimated by Gaussian maximum likelihood: the smoothing
parameters (alpha, beta, gamma, phi) and the initial level and trend; the initial seasonal indices stay
at their classical-decomposition values (Hyndman et al. 2008, section 2.6.1), which keeps the search
cheap (at most 6 parameters) — the AICc still counts them. Bounds ("usual" region): 1e-4 <= alpha <=
0.9999, 1e-4 <= beta <= alpha, 1e-4 <= gamma <= 1 - alpha, 0.8 <= phi <= 0.98.

Search (`auto_ets`): every admissible form — multiplicative error or season only on a strictly positive
series, no ETS(A,*,M) (numerically unstable, excluded by Hyndman et al. as by R's `ets` and statsforecast),
seasonal forms only with at least two full seasons plus two points, trend forms only with at least 8
points — and the lowest AICc wins. Intervals: the class-1 variance of Hyndman et al. (2008, section 6.3),
sigma^2 (1 + sum_j c_j^2) with c_j = alpha + beta phi_j + gamma [j mod m = 0], from the absolute
residuals, for every form (for multiplicative forms an approximation; the product calibrates every
interval on backtest errors anyway, analytics.forecast).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from analytics.normal import two_sided_z

# form codes
NONE, ADD, MUL = 0, 1, 2
_BIG = 1e300


@njit(cache=True, nogil=True)
def _filter(y, m, trend, season, damped, alpha, beta, gamma, phi, l0, b0, s0, out_fitted):
    """Run the ETS recursions over y from the initial states; returns (sse, sum log yhat — -inf when a
    one-step forecast is not positive, which only multiplicative errors cannot take —, ok) and the final
    level, trend and seasonal ring (s0 is copied). `out_fitted` receives the one-step forecasts."""
    n = y.shape[0]
    level, slope = l0, b0
    s = s0.copy()
    sse = 0.0
    logsum = 0.0
    ok = True
    for t in range(n):
        phib = phi * slope if damped else slope
        mu = level + phib if trend != NONE else level
        j = t % m if season != NONE else 0
        if season == ADD:
            yhat = mu + s[j]
        elif season == MUL:
            yhat = mu * s[j]
        else:
            yhat = mu
        out_fitted[t] = yhat
        e = y[t] - yhat
        sse += e * e
        if yhat > 0:
            logsum += np.log(yhat)
        else:
            logsum = -np.inf
        if season == MUL:
            if s[j] <= 0 or mu <= 0:
                ok = False
                break
            new_level = mu + alpha * e / s[j]
            slope = phib + beta * e / s[j]
            s[j] = s[j] + gamma * e / mu
        elif season == ADD:
            new_level = mu + alpha * e
            slope = phib + beta * e
            s[j] = s[j] + gamma * e
        else:
            new_level = mu + alpha * e
            slope = phib + beta * e
        level = new_level
        if not np.isfinite(level):
            ok = False
            break
    return sse, logsum, ok, level, slope, s


@njit(cache=True, nogil=True)
def _objective(x, y, m, error, trend, season, damped, s0, fitted):
    """-2 log-likelihood (up to constants) of parameters x = (alpha, beta, gamma, phi, l0, b0); huge when
    outside the usual bounds."""
    alpha, beta, gamma, phi = x[0], x[1], x[2], x[3]
    if alpha < 1e-4 or alpha > 0.9999:
        return _BIG
    if trend != NONE and (beta < 1e-4 or beta > alpha):
        return _BIG
    if season != NONE and (gamma < 1e-4 or gamma > 1 - alpha):
        return _BIG
    if damped and (phi < 0.8 or phi > 0.98):
        return _BIG
    n = y.shape[0]
    sse, logsum, ok, _, _, _ = _filter(y, m, trend, season, damped, alpha, beta, gamma, phi, x[4], x[5], s0, fitted)
    if not ok or not np.isfinite(sse):
        return _BIG
    if error == MUL:
        if not np.isfinite(logsum):
            return _BIG
        rel = 0.0
        for t in range(n):
            r = (y[t] - fitted[t]) / fitted[t]
            rel += r * r
        return n * np.log(max(rel, 1e-300)) + 2 * logsum
    return n * np.log(max(sse, 1e-300))


@njit(cache=True, nogil=True)
def _nelder_mead(x0, step, free, y, m, error, trend, season, damped, s0, max_iter, tol):
    """Nelder-Mead over the coordinates of x0 flagged in `free` (the others stay fixed)."""
    idx = np.nonzero(free)[0]
    k = idx.shape[0]
    fitted = np.empty(y.shape[0])
    simplex = np.empty((k + 1, k))
    values = np.empty(k + 1)
    base = x0[idx]
    x = x0.copy()
    for i in range(k + 1):
        simplex[i] = base
        if i > 0:
            simplex[i, i - 1] += step[idx[i - 1]]
        x[idx] = simplex[i]
        values[i] = _objective(x, y, m, error, trend, season, damped, s0, fitted)
    for _ in range(max_iter):
        order = np.argsort(values)
        simplex = simplex[order]
        values = values[order]
        if abs(values[k] - values[0]) <= tol * (abs(values[0]) + 1e-10):
            break
        centroid = np.zeros(k)
        for i in range(k):
            centroid += simplex[i]
        centroid /= k
        xr = centroid + (centroid - simplex[k])
        x[idx] = xr
        fr = _objective(x, y, m, error, trend, season, damped, s0, fitted)
        if fr < values[0]:
            xe = centroid + 2.0 * (centroid - simplex[k])
            x[idx] = xe
            fe = _objective(x, y, m, error, trend, season, damped, s0, fitted)
            if fe < fr:
                simplex[k], values[k] = xe, fe
            else:
                simplex[k], values[k] = xr, fr
        elif fr < values[k - 1]:
            simplex[k], values[k] = xr, fr
        else:
            worst = xr if fr < values[k] else simplex[k]  # contract towards the better of the two
            xc = centroid + 0.5 * (worst - centroid)
            x[idx] = xc
            fc = _objective(x, y, m, error, trend, season, damped, s0, fitted)
            if fc < min(fr, values[k]):
                simplex[k], values[k] = xc, fc
            else:
                for i in range(1, k + 1):
                    simplex[i] = simplex[0] + 0.5 * (simplex[i] - simplex[0])
                    x[idx] = simplex[i]
                    values[i] = _objective(x, y, m, error, trend, season, damped, s0, fitted)
    best = np.argmin(values)
    x[idx] = simplex[best]
    return x, values[best]


@dataclass
class ETSFit:
    """One fitted form: parameters, final states and what the AICc needs."""

    error: int
    trend: int
    season: int
    damped: bool
    m: int
    params: np.ndarray  # alpha, beta, gamma, phi, l0, b0
    s0: np.ndarray
    n: int
    aicc: float
    sigma: float
    level: float
    slope: float
    ring: np.ndarray  # seasonal indices at the end of the data, position of the next point = n % m

    @property
    def label(self) -> str:
        e = "AM"[self.error - 1]
        t = "N" if self.trend == NONE else ("Ad" if self.damped else "A")
        s = "NAM"[self.season]
        return f"ETS({e},{t},{s})"

    def extend(self, y: np.ndarray) -> ETSFit:
        """The same parameters and initial states run over a longer history (`y` starts with the data this
        was fitted on): states at the end of `y`, no re-estimation."""
        y = np.asarray(y, dtype=float)
        fitted = np.empty(len(y))
        a, b, g, p, l0, b0 = self.params
        sse, _, ok, level, slope, ring = _filter(
            y, self.m, self.trend, self.season, self.damped, a, b, g, p, l0, b0, self.s0, fitted
        )
        if not ok:
            raise ValueError(f"{self.label} cannot follow the longer history")
        sigma = float(np.sqrt(sse / max(1, len(y) - _n_params(self))))
        return ETSFit(**{**self.__dict__, "n": len(y), "sigma": sigma, "level": level, "slope": slope, "ring": ring})

    def predict(self, horizon: int, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, b, g, p, _, _ = self.params
        phi = p if self.damped else 1.0
        h = np.arange(1, horizon + 1)
        if self.trend == NONE:
            trend = np.zeros(horizon)
            phi_j = np.zeros(horizon)
        else:
            phi_j = np.cumsum(phi**h)  # phi + phi^2 + ... + phi^h
            trend = phi_j * self.slope
        mu = self.level + trend
        if self.season != NONE:
            s = self.ring[(self.n + h - 1) % self.m]
            mean = mu + s if self.season == ADD else mu * s
        else:
            mean = mu
        # class-1 variance: sigma^2 (1 + sum_{j<h} c_j^2), c_j = alpha + beta phi_j + gamma [j mod m == 0]
        c = a + (b * phi_j if self.trend != NONE else np.zeros(horizon))
        if self.season != NONE:
            c = c + g * ((h % self.m) == 0)
        var = np.concatenate([[1.0], 1.0 + np.cumsum(c[:-1] ** 2)])
        sd = self.sigma * np.sqrt(var)
        if self.season == MUL:  # the seasonal factor scales the error too (approximation)
            sd = sd * np.abs(s)
        z = two_sided_z(level)
        return mean, mean - z * sd, mean + z * sd


def _n_params(fit: ETSFit) -> int:
    k = 2  # alpha, l0
    if fit.trend != NONE:
        k += 2 + int(fit.damped)
    if fit.season != NONE:
        k += 1 + fit.m - 1
    return k


def initial_states(y: np.ndarray, m: int, season: int, trend: int) -> tuple[float, float, np.ndarray]:
    """Classical-decomposition start values (Hyndman et al. 2008, 2.6.1): seasonal indices from the first
    up to three seasons around a 2 x m moving average; level and slope from a line through the first
    max(10, 2m) seasonally adjusted points (no trend: their mean)."""
    n = len(y)
    s0 = np.zeros(m) if season == ADD else np.ones(m)
    adjusted = y
    if season != NONE and m > 1:
        span = min(n, 3 * m) if n >= 3 * m else min(n, 2 * m)
        head = y[:span]
        weights = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
        average = np.convolve(head, weights, mode="valid")
        offset = (len(weights) - 1) // 2
        centred = np.full(span, np.nan)
        centred[offset : offset + len(average)] = average
        detrended = head - centred if season == ADD else head / centred
        for j in range(m):
            values = detrended[j::m]
            values = values[np.isfinite(values)]
            s0[j] = np.mean(values) if len(values) else (0.0 if season == ADD else 1.0)
        if season == ADD:
            s0 -= s0.mean()
        else:
            s0 /= s0.mean()
        adjusted = y - np.resize(s0, n) if season == ADD else y / np.resize(s0, n)
    k = min(n, max(10, 2 * m))
    if trend == NONE or k < 2:
        return float(np.mean(adjusted[:k])), 0.0, s0
    slope, intercept = np.polyfit(np.arange(1, k + 1, dtype=float), adjusted[:k], 1)
    return float(intercept), float(slope), s0


def fit_form(y: np.ndarray, m: int, error: int, trend: int, season: int, damped: bool) -> ETSFit:
    """Estimate one ETS form by maximum likelihood (Nelder-Mead in Numba); raises ValueError if it fails."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    mm = m if season != NONE else 1
    l0, b0, s0 = initial_states(y, mm, season, trend)
    alpha0 = 0.2 if season != NONE else 0.5
    x0 = np.array([alpha0, 0.1 * alpha0, 0.05, 0.95 if damped else 1.0, l0, b0])
    scale = float(np.mean(np.abs(y))) or 1.0
    step = np.array([0.1, 0.05 * alpha0, 0.05, 0.02, 0.1 * scale, 0.05 * (abs(b0) + 0.01 * scale)])
    free = np.array([True, trend != NONE, season != NONE, bool(damped), True, trend != NONE])
    x, value = _nelder_mead(
        x0, step, free, y, mm, error, trend, season, bool(damped), s0.astype(float), 60 * int(free.sum()), 1e-5
    )
    if value >= _BIG or not np.isfinite(value):
        raise ValueError("no admissible parameters")
    fitted = np.empty(n)
    sse, logsum, ok, level, slope, ring = _filter(
        y, mm, trend, season, bool(damped), x[0], x[1], x[2], x[3], x[4], x[5], s0, fitted
    )
    if not ok:
        raise ValueError("no admissible parameters")
    loglik = -0.5 * n * (np.log(2 * np.pi * _sigma2(y, fitted, error)) + 1)
    if error == MUL:
        loglik -= logsum
    fit = ETSFit(error, trend, season, bool(damped), mm, x, s0, n, np.inf, 0.0, level, slope, ring)
    k = _n_params(fit) + 1  # + the error variance
    fit.aicc = float(-2 * loglik + 2 * k + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else np.inf))
    fit.sigma = float(np.sqrt(sse / max(1, n - _n_params(fit))))
    return fit


def _sigma2(y: np.ndarray, fitted: np.ndarray, error: int) -> float:
    e = (y - fitted) / fitted if error == MUL else y - fitted
    return max(float(np.mean(e**2)), 1e-300)


def forms(y: np.ndarray, m: int, seasonal: bool) -> list[tuple[int, int, int, bool]]:
    """The admissible (error, trend, season, damped) forms for `y` (module docstring)."""
    n = len(y)
    positive = bool(np.all(y > 0))
    errors = [ADD, MUL] if positive else [ADD]
    trends = [(NONE, False), (ADD, False), (ADD, True)] if n >= 8 else [(NONE, False)]
    seasons = [NONE]
    if seasonal and m > 1 and n >= 2 * m + 2:
        seasons += [ADD, MUL] if positive else [ADD]
    out = []
    for error in errors:
        for trend, damped in trends:
            for season in seasons:
                if error == ADD and season == MUL:
                    continue
                out.append((error, trend, season, damped))
    return out


def auto_ets(
    y: np.ndarray, m: int, seasonal: bool, candidates: list[tuple[int, int, int, bool]] | None = None
) -> ETSFit:
    """Every admissible form fitted, the lowest AICc kept; raises ValueError when none fits."""
    y = np.asarray(y, dtype=float)
    best = None
    for error, trend, season, damped in candidates or forms(y, m, seasonal):
        try:
            fit = fit_form(y, m, error, trend, season, damped)
        except ValueError:
            continue
        if best is None or fit.aicc < best.aicc:
            best = fit
    if best is None:
        raise ValueError("no ETS form could be fitted")
    return best


# ---------------------------------------------------------------------------------------------
# Theta
# ---------------------------------------------------------------------------------------------


@dataclass
class ThetaFit:
    """The standard Theta method (Assimakopoulos & Nikolopoulos 2000) as Hyndman & Billah (2003) showed
    it to be: simple exponential smoothing with drift equal to half the slope of a line through the
    (seasonally adjusted) data; seasonally adjusted by classical multiplicative decomposition when
    seasonal and positive (else additive)."""

    ses: ETSFit
    slope: float
    season: np.ndarray | None
    multiplicative: bool
    n: int
    m: int

    def predict(self, horizon: int, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = float(self.ses.params[0])
        mean, lower, upper = self.ses.predict(horizon, level)
        h = np.arange(1, horizon + 1)
        drift = 0.5 * self.slope * (h - 1 + (1 - (1 - a) ** self.n) / a)
        mean, lower, upper = mean + drift, lower + drift, upper + drift
        if self.season is not None:
            s = self.season[(self.n + h - 1) % self.m]
            if self.multiplicative:
                mean, lower, upper = mean * s, lower * s, upper * s
            else:
                mean, lower, upper = mean + s, lower + s, upper + s
        return mean, lower, upper


def theta(y: np.ndarray, m: int, seasonal: bool) -> ThetaFit:
    y = np.asarray(y, dtype=float)
    n = len(y)
    season = None
    multiplicative = False
    x = y
    if seasonal and m > 1 and n >= 2 * m:
        multiplicative = bool(np.all(y > 0))
        season = _classical_season(y, m, multiplicative)
        x = y / np.resize(season, n) if multiplicative else y - np.resize(season, n)
    ses = fit_form(x, 1, ADD, NONE, NONE, False)
    slope = float(np.polyfit(np.arange(n, dtype=float), x, 1)[0]) if n > 1 else 0.0
    return ThetaFit(ses, slope, season, multiplicative, n, m)


def _classical_season(y: np.ndarray, m: int, multiplicative: bool) -> np.ndarray:
    """Seasonal indices of a classical decomposition over the whole series, position j = t mod m."""
    weights = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    trend = np.convolve(y, weights, mode="valid")
    offset = (len(weights) - 1) // 2
    centred = np.full(len(y), np.nan)
    centred[offset : offset + len(trend)] = trend
    ratio = y / centred if multiplicative else y - centred
    season = np.array([np.nanmean(ratio[j::m]) if np.isfinite(ratio[j::m]).any() else np.nan for j in range(m)])
    season = np.nan_to_num(season, nan=1.0 if multiplicative else 0.0)
    return season / season.mean() if multiplicative else season - season.mean()
