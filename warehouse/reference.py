"""Reference data shared by the simulator, the ETL and the warehouse dimensions.

Codes only: incident types carry the clearing house's public category names, content
categories are classification codes, never descriptions of content.
"""

from __future__ import annotations

# ISO 3166-1 alpha-3, alpha-2 and English short name of the 27 EU member states.
EU27 = (
    ("AUT", "AT", "Austria"),
    ("BEL", "BE", "Belgium"),
    ("BGR", "BG", "Bulgaria"),
    ("HRV", "HR", "Croatia"),
    ("CYP", "CY", "Cyprus"),
    ("CZE", "CZ", "Czechia"),
    ("DNK", "DK", "Denmark"),
    ("EST", "EE", "Estonia"),
    ("FIN", "FI", "Finland"),
    ("FRA", "FR", "France"),
    ("DEU", "DE", "Germany"),
    ("GRC", "GR", "Greece"),
    ("HUN", "HU", "Hungary"),
    ("IRL", "IE", "Ireland"),
    ("ITA", "IT", "Italy"),
    ("LVA", "LV", "Latvia"),
    ("LTU", "LT", "Lithuania"),
    ("LUX", "LU", "Luxembourg"),
    ("MLT", "MT", "Malta"),
    ("NLD", "NL", "Netherlands"),
    ("POL", "PL", "Poland"),
    ("PRT", "PT", "Portugal"),
    ("ROU", "RO", "Romania"),
    ("SVK", "SK", "Slovakia"),
    ("SVN", "SI", "Slovenia"),
    ("ESP", "ES", "Spain"),
    ("SWE", "SE", "Sweden"),
)
EU27_ISO3 = tuple(code for code, _, _ in EU27)

# Incident type codes with the clearing house's public category names.
INCIDENT_TYPES = (
    ("IT_CP", "Child Pornography (possession, manufacture, distribution)"),
    ("IT_CST", "Child Sex Trafficking"),
    ("IT_CSTOUR", "Child Sex Tourism"),
    ("IT_CSM", "Child Sexual Molestation"),
    ("IT_MDN", "Misleading Domain Name"),
    ("IT_MWDI", "Misleading Words or Digital Images on the Internet"),
    ("IT_OEC", "Online Enticement of Children for Sexual Acts"),
    ("IT_UOM", "Unsolicited Obscene Material Sent to a Child"),
)

# Industry classification scheme: codes only.
INDUSTRY_CLASSIFICATIONS = ("A1", "A2", "B1", "B2")

CHANNELS = ("chat", "social", "cloud", "p2p", "live_streaming", "email", "gaming", "other")

REPORT_ANNOTATIONS = ("sextortion", "csam_solicitation", "minor_to_minor_interaction", "infant_toddler")
FILE_ANNOTATIONS = (
    "viral",
    "possible_self_production",
    "live_streaming",
    "generative_ai",
    "potential_meme",
    "physical_harm",
)

# Victim age bands (inclusive bounds) used instead of ages in the warehouse.
AGE_BANDS = (("0-2", 0, 2), ("3-5", 3, 5), ("6-8", 6, 8), ("9-12", 9, 12), ("13-15", 13, 15), ("16-17", 16, 17))
