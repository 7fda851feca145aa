#!/usr/bin/env python3
"""Writes a département-sized file in the Base Adresse Nationale's CSV format (synthetic data), for the
référentiel's load-time and lookup figure (docs/referentiels.md). Not part of `make test`; the output is not
committed.

    python3 scripts/gen-ban-departement.py /tmp/adresses-99.csv [LINES]   # default 1,000,000 lines
"""
import random
import sys

HEADER = ("id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;"
          "nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;"
          "source_position;source_nom_voie;certification_commune;cadastre_parcelles")
KINDS = ["Rue", "Avenue", "Boulevard", "Chemin", "Impasse", "Place", "Allée", "Route"]
NAMES = ["Victor Hugo", "Jean Jaurès", "de la Gare", "du Moulin", "Pasteur", "de l'Église", "des Écoles", "Gambetta",
         "de la République", "du Général de Gaulle", "des Tilleuls", "Saint-Martin", "du Château", "de Lille",
         "d'Amiens", "des Prés", "Jules Ferry", "de la Liberté", "du Marais", "Carnot", "de Verdun", "des Champs"]


def main():
    path = sys.argv[1]
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    rng = random.Random(59)
    written = 0
    commune = 0
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        while written < total:
            commune += 1
            insee = f"99{commune:03d}"
            postcode = f"99{(commune % 200) * 5:03d}"
            name = f"Commune-{commune}"
            lat0, lon0 = 49.5 + rng.random() * 1.5, 1.6 + rng.random() * 2.5
            for street in range(rng.randint(20, 120)):
                street_name = f"{KINDS[street % len(KINDS)]} {NAMES[(street * 7 + commune) % len(NAMES)]} {street}"
                fantoir = f"{street:04d}"
                for number in range(1, rng.randint(5, 40)):
                    if written >= total:
                        break
                    lat = lat0 + street * 0.0004 + number * 0.00005
                    lon = lon0 + number * 0.00007
                    out.write(f"{insee}_{fantoir}_{number:05d};{insee}_{fantoir};{number};;{street_name};{postcode};{insee};"
                              f"{name};;;650000.00;6950000.00;{lon:.6f};{lat:.6f};entrée;;;{name.upper()};"
                              f"{street_name.upper()};commune;commune;1;{insee}000AB{number:04d}\n")
                    written += 1
    print(f"{path}: {written} addresses in {commune} communes")


if __name__ == "__main__":
    main()
