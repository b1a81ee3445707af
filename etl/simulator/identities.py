"""Synthetic identifiers of reported accounts: screen names, e-mails, phones, IPs, free text.

All values are obviously synthetic but realistic in form: e-mails and URLs use the reserved
example domains (RFC 2606), IPv4 addresses come from the documentation ranges (RFC 5737),
IPv6 from 2001:db8::/32 (RFC 3849), phone numbers use a `555` block after the country code.
Accounts recur: per platform and country a pool of recurring accounts with Pareto (Zipf-like)
activity is reported again and again, next to many one-off accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.simulator.rng import mix, unit_interval
from etl.simulator.strings import (
    by_case,
    choose,
    hex_strings,
    int_strings,
    join,
    null_where,
    pick,
    utc_datetime_strings,
)
from etl.simulator.world import World

FIRST_NAMES = (
    "Alex",
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Elena",
    "Emil",
    "Eva",
    "Felix",
    "Hanna",
    "Ivan",
    "Jana",
    "Jonas",
    "Julia",
    "Karl",
    "Lara",
    "Leon",
    "Lina",
    "Luca",
    "Maja",
    "Marco",
    "Mia",
    "Nico",
    "Nina",
    "Oskar",
    "Paula",
    "Piotr",
    "Rosa",
    "Sami",
    "Sara",
    "Tom",
    "Vera",
    "Yara",
    "Zoe",
)
INITIALS = tuple("ABCDEFGHIJKLMNOPRSTVWZ")
WORDS_A = ("blue", "silent", "lucky", "quick", "pixel", "urban", "cosmic", "frozen", "happy", "neon", "solar", "wild")
WORDS_B = ("fox", "tiger", "river", "gamer", "wolf", "comet", "panda", "rider", "storm", "otter", "falcon", "nova")
EMAIL_DOMAINS = ("example.org", "example.net", "example.com")
IPV4_PREFIXES = ("192.0.2.", "198.51.100.", "203.0.113.")
IP_EVENTS = ("Login", "Upload", "Registration", "Purchase", "Other")
IP_EVENT_WEIGHTS = (0.5, 0.3, 0.1, 0.02, 0.08)
NON_EU_LOCATIONS = ("GBR", "USA", "CHE", "NOR", "UKR", "TUR", "SRB", "BRA", "IND", "PHL", "MAR", "CAN")

RECURRING_SHARE = 0.4  # share of referrals about an account from the recurring pool
POOL_PER_REFERRAL = 0.3  # recurring pool size relative to the referrals of a platform x country
PARETO_SHAPE = 2.0  # activity of recurring accounts: heavier tail = more repeat reporting


@dataclass(frozen=True)
class Accounts:
    """Per referral: a stable account key and the account's home country index."""

    key: np.ndarray  # uint64
    recurring: np.ndarray  # bool


def assign_accounts(platform: np.ndarray, country: np.ndarray, seed: int, rng: np.random.Generator) -> Accounts:
    """Draw the reported account of every referral (recurring pool or one-off)."""
    n = len(platform)
    group = platform.astype(np.int64) * 1000 + country.astype(np.int64)
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    bounds = np.flatnonzero(np.diff(sorted_group)) + 1
    local = np.empty(n, dtype=np.int64)
    recurring = rng.random(n) < RECURRING_SHARE
    for rows in np.split(order, bounds):
        if len(rows) == 0:
            continue
        pool = max(3, round(POOL_PER_REFERRAL * len(rows)))
        activity = rng.pareto(PARETO_SHAPE, size=pool) + 1.0
        drawn = rng.choice(pool, size=len(rows), p=activity / activity.sum())
        one_off = pool + np.arange(len(rows))
        local[rows] = np.where(recurring[rows], drawn, one_off)
    key = mix(seed, group, local, 0xACC)
    return Accounts(key, recurring)


def _word(key: np.ndarray, salt: int, size: int) -> np.ndarray:
    return (mix(key, salt) % np.uint64(size)).astype(np.int64)


def screen_names(key: np.ndarray) -> pa.Array:
    """Screen names like `silent_otter482` or `jana.k07`."""
    style = _word(key, 1, 2)
    digits = int_strings(_word(key, 2, 1000), 3)
    game_style = join(
        pick(WORDS_A, _word(key, 3, len(WORDS_A))), "_", pick(WORDS_B, _word(key, 4, len(WORDS_B))), digits
    )
    first = pick([f.lower() for f in FIRST_NAMES], _word(key, 5, len(FIRST_NAMES)))
    name_style = join(
        first,
        ".",
        pick([i.lower() for i in INITIALS], _word(key, 6, len(INITIALS))),
        int_strings(_word(key, 7, 100), 2),
    )
    return choose(style, game_style, name_style)


def display_names(key: np.ndarray) -> pa.Array:
    """Display names like `Jana K.`."""
    first = pick(FIRST_NAMES, _word(key, 5, len(FIRST_NAMES)))
    return join(first, " ", pick(INITIALS, _word(key, 6, len(INITIALS))), ".")


def emails(key: np.ndarray, salt: int = 0) -> pa.Array:
    """E-mail addresses on reserved example domains, like `jana.k42@example.org`."""
    first = pick([f.lower() for f in FIRST_NAMES], _word(key, 5, len(FIRST_NAMES)))
    initial = pick([i.lower() for i in INITIALS], _word(key, 6, len(INITIALS)))
    number = int_strings(_word(key, 8 + salt, 100), 2)
    domain = pick(EMAIL_DOMAINS, _word(key, 9 + salt, len(EMAIL_DOMAINS)))
    return join(first, ".", initial, number, "@", domain)


def phones(key: np.ndarray, phone_cc: np.ndarray) -> pa.Array:
    """Phone numbers in +CC form with a fictional 555 block, like `+495550123456`."""
    return join("+", pa.array(phone_cc, pa.string()), "555", int_strings(_word(key, 10, 10_000_000), 7))


def ip_addresses(key: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """IPv4 (documentation ranges, 75 %) or IPv6 (2001:db8::/32); each account uses up to 3 addresses."""
    slot = rng.integers(0, 3, size=len(key))
    words = mix(key, 20, slot)
    version6 = (unit_interval(mix(words, 22)) < 0.25).astype(np.int8)

    def v4(rows):
        w = words[rows]
        return join(
            pick(IPV4_PREFIXES, (w % np.uint64(3)).astype(np.int64)),
            int_strings(((w >> np.uint64(8)) % np.uint64(254)).astype(np.int64) + 1),
        )

    def v6(rows):
        groups = hex_strings([words[rows], mix(words[rows], 21)], 24)
        pieces = [pc.utf8_slice_codeunits(groups, 4 * i, 4 * i + 4) for i in range(6)]
        return pc.binary_join_element_wise("2001", "db8", *pieces, ":")

    return by_case(version6, (v4, v6))


LOCATION_CLASSES = ("reporting_country", "other_eu", "non_eu", "unknown")  # estimated location vs reporting country


def estimated_locations(world: World, country: np.ndarray, rng: np.random.Generator) -> tuple[pa.Array, np.ndarray]:
    """Mostly the reporting country; some other EU state, some outside the EU, a few unknown.

    Also the class of each value (index into LOCATION_CLASSES): another EU state drawn at random
    can be the reporting country itself, which then counts as the reporting country.
    """
    n = len(country)
    own = np.array([c.iso3 for c in world.countries], dtype=object)[country]
    others = np.array([c.iso3 for c in world.all_countries], dtype=object)[rng.integers(0, 27, size=n)]
    abroad = np.array(NON_EU_LOCATIONS, dtype=object)[rng.integers(0, len(NON_EU_LOCATIONS), size=n)]
    u = rng.random(n)
    values = np.where(u < 0.86, own, np.where(u < 0.95, others, abroad))
    unknown = u >= 0.98
    location = np.select([unknown, u >= 0.95, values != own], [3, 2, 1], 0)
    return null_where(pa.array(values.astype(str), pa.string()), unknown), location


def identity_columns(
    world: World,
    platform: np.ndarray,
    country: np.ndarray,
    incident_seconds: np.ndarray,
    seed: int,
    rng: np.random.Generator,
) -> tuple[dict[str, pa.Array], Accounts]:
    """The reported_* columns of the referrals table, with realistic gaps.

    Account attributes are built once per distinct account and spread to its referrals.
    """
    n = len(platform)
    accounts = assign_accounts(platform, country, seed, rng)
    unique_keys, first, inverse = np.unique(accounts.key, return_index=True, return_inverse=True)
    spread = pa.array(inverse.astype(np.int64))
    key = unique_keys
    phone_cc = np.array([c.phone_cc for c in world.countries], dtype=str)[country[first]]
    per_account = {
        "reported_screen_name": null_where(screen_names(key), unit_interval(mix(key, 30)) > 0.92),
        "reported_display_name": null_where(display_names(key), unit_interval(mix(key, 31)) > 0.65),
        "reported_email": null_where(emails(key), unit_interval(mix(key, 32)) > 0.45),
        "reported_phone": null_where(phones(key, phone_cc), unit_interval(mix(key, 33)) > 0.18),
    }
    columns = {name: values.take(spread) for name, values in per_account.items()}
    has_ip = rng.random(n) < 0.75
    ip_seconds = incident_seconds - rng.integers(0, 72 * 3600, size=n)
    events = rng.choice(len(IP_EVENTS), size=n, p=IP_EVENT_WEIGHTS)
    columns["reported_ip"] = null_where(ip_addresses(accounts.key, rng), ~has_ip)
    columns["reported_ip_event"] = null_where(pick(IP_EVENTS, events), ~has_ip)
    columns["reported_ip_datetime"] = null_where(utc_datetime_strings(ip_seconds), ~has_ip)
    return columns, accounts


def additional_info(world: World, platform: np.ndarray, key: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """Benign provider free text; sometimes carries contact e-mails (identifiers to be dropped)."""
    n = len(platform)
    slugs = [p.slug for p in world.platforms]
    reference = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64)
    which = rng.choice(6, size=n, p=(0.55, 0.15, 0.1, 0.06, 0.1, 0.04))
    builders = (
        None,
        lambda rows: pa.array(["Automated report generated by hash match."] * len(rows), pa.string()),
        lambda rows: join("Automated report; contact lers@", pick(slugs, platform[rows]), ".example"),
        lambda rows: join("Reported via user flag; reviewer contact ", emails(mix(key[rows], 0x5EED), salt=40)),
        lambda rows: join("Provider case reference ", hex_strings([reference[rows]], 10), "."),
        lambda rows: join("Account also registered as ", emails(key[rows], salt=50), "."),
    )
    return by_case(which, builders)


def incident_urls(world: World, platform: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """Fake URLs on reserved `.example` domains, present for about half of the referrals."""
    n = len(platform)
    slug = pick([p.slug for p in world.platforms], platform)
    path = pick(("m/", "p/", "v/", "u/", "share/"), rng.integers(0, 5, size=n))
    token = hex_strings([rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64)], 12)
    return null_where(join("https://", slug, ".example/", path, token), rng.random(n) < 0.5)
