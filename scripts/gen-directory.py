#!/usr/bin/env python3
"""Writes a synthetic directory of public structures as CSV, in the format
`facteur directory import` reads (crates/app/src/directory_csv.rs).

    python3 scripts/gen-directory.py --count 100000 --seed 1 > annuaire.csv

Python 3.11 standard library only. The output is deterministic for a given seed and count:
same names, SIRETs (valid Luhn keys on the SIREN and the whole SIRET), postcodes and cities.
Names and cities carry French accents and apostrophes so accent-insensitive search is exercised;
about 5 % of the structures are INACTIVE, a third act as MOA, one in ten has an extra service.
The directory-search benchmark (crates/facteur/benches/directory_search.rs) reads the same file
back to compute the totals each search must answer.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys

COLUMNS = [
    "type_identifiant", "identifiant", "raison_sociale", "libelle", "statut", "email", "numero_tva",
    "adresse", "complement_adresse", "code_postal", "ville", "pays", "code_service_obligatoire",
    "engagement_obligatoire", "code_service_ou_engagement", "mise_en_paiement_non_remontee",
    "presence_moa", "code_service", "libelle_service", "service_actif", "service_engagement_obligatoire",
    "service_date_debut", "service_date_fin",
]

KINDS = [
    "Mairie de {c}", "Commune de {c}", "Centre communal d'action sociale de {c}", "Collège {p} de {c}",
    "Lycée {p} de {c}", "École élémentaire {p} de {c}", "Syndicat intercommunal des eaux de {c}",
    "Centre hospitalier de {c}", "Office de tourisme de {c}", "Médiathèque de {c}",
    "Communauté de communes du pays de {c}", "Régie des transports de {c}", "Établissement public de {c}",
]
PEOPLE = [
    "Jean Moulin", "Marie Curie", "Victor Hugo", "Jules Ferry", "Louise Michel", "Émile Zola",
    "Simone Veil", "George Sand", "Pasteur", "Condorcet", "Molière", "Camille Claudel",
]
ONSETS = ["b", "br", "c", "ch", "d", "f", "g", "gr", "l", "m", "n", "p", "pr", "r", "s", "t", "tr", "v"]
VOWELS = ["a", "e", "i", "o", "u", "é", "è", "ou", "ai", "au", "ie", "on", "an", "in"]
CODAS = ["", "", "", "c", "l", "n", "r", "s", "t", "x", "lle", "nne", "rgue", "ville", "court"]
SUFFIXES = ["", "", "", "-sur-Mer", "-le-Château", "-en-Bresse", "-sur-Loire", "-lès-Bains", "-d'Arvor"]
SERVICES = ["VOIRIE", "ECOLES", "CULTURE", "SPORTS", "ACHATS", "URBANISME"]


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def with_key(prefix: str) -> str:
    """`prefix` followed by the one digit that makes the whole number pass Luhn."""
    for k in "0123456789":
        if luhn_ok(prefix + k):
            return prefix + k
    raise AssertionError("a Luhn key always exists")


def city_name(rng: random.Random) -> str:
    word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(rng.randint(1, 3)))
    word += rng.choice(CODAS)
    return word.capitalize() + rng.choice(SUFFIXES)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100_000, help="number of structures (default 100000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    # About 30 structures per city, each city with one postcode (department + 3 digits).
    cities: list[tuple[str, str]] = []
    seen_cities: set[str] = set()
    while len(cities) < max(1, args.count // 30):
        name = city_name(rng)
        if name in seen_cities:
            continue
        seen_cities.add(name)
        dept = rng.randint(1, 95)
        cities.append((name, f"{dept:02d}{rng.randint(0, 999):03d}"))

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(COLUMNS)
    sirens: set[str] = set()
    for i in range(args.count):
        # Distinct SIRENs (2 + 7 digits from the index keeps them unique), one establishment each.
        siren = with_key(f"2{i:07d}")
        assert siren not in sirens
        sirens.add(siren)
        siret = with_key(siren + f"{rng.randint(0, 9999):04d}")
        city, postcode = rng.choice(cities)
        name = rng.choice(KINDS).format(c=city, p=rng.choice(PEOPLE))
        moa = rng.choices(["SANS_MOA", "AVEC_MOA", "MOA_UNIQUEMENT"], weights=[67, 28, 5])[0]
        row = {
            "type_identifiant": "SIRET",
            "identifiant": siret,
            "raison_sociale": name,
            "statut": "INACTIVE" if rng.random() < 0.05 else "ACTIVE",
            "adresse": f"{rng.randint(1, 120)} rue de la République",
            "code_postal": postcode,
            "ville": city,
            "pays": "FR",
            "code_service_obligatoire": "1" if rng.random() < 0.2 else "0",
            "engagement_obligatoire": "1" if rng.random() < 0.1 else "0",
            "code_service_ou_engagement": "0",
            "mise_en_paiement_non_remontee": "0",
            "presence_moa": moa,
        }
        if rng.random() < 0.1:
            code = rng.choice(SERVICES)
            row.update({"code_service": code, "libelle_service": code.capitalize(), "service_actif": "1"})
        out.writerow([row.get(c, "") for c in COLUMNS])


if __name__ == "__main__":
    main()
