"""An attacker with public data only, against Varde's open-data files (issue 31).

Usage: attack.py OPEN_DATA_DIR SUBSTANCES_TOML

Reads the published files as anyone can download them (fylke-counts.csv, weekly-counts.csv, result-changes.csv,
samples.csv) and, for every cell published as "<5", asks an integer program (PuLP with CBC) for the smallest and
largest true count that agrees with everything published, using:

- what each published cell says of its true count, under the stated method (the cell-key method,
  varde_domain::cell_key): "<5" is 0-4, a shown value v is within v-2..v+2 and at least 5, "x" is anything;
- the links between the files: a quarter's fylker and that quarter's ISO weeks count the same samples
  (for each quarter and class, the sum over fylker in fylke-counts equals the sum over weeks in weekly-counts);
- what the sample table gives away: each row of samples.csv is a sample, so the rows whose substances fall in a
  class are a lower bound of that class's count in their quarter (or year);
- result-changes.csv: the samples of a year and class that stated an intention are no more than the year's
  samples of that class (the weekly counts), and likewise those that told an outcome.

The stated protection holds when no "<5" cell can be narrowed within 0-4. Prints what it solved and exits 1,
naming each cell, when any was narrowed.
"""

import csv
import sys
import tomllib
from collections import defaultdict

import pulp

D = 2  # the largest perturbation (varde_domain::cell_key::D)
MIN_SHOWN = 5


def possible(shown):
    if shown == "x":
        return (0, None)  # hidden: anything
    if shown == "<5":
        return (0, MIN_SHOWN - 1)
    v = int(shown)
    return (max(MIN_SHOWN, v - D), v + D)


def quarter_of_week(period):
    """2026-W40 -> 2026-Q4, as Varde groups ISO weeks (weeks 1-13 in Q1 ... 40-53 in Q4)."""
    year, week = period.split("-W")
    return f"{year}-Q{min((int(week) - 1) // 13, 3) + 1}"


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main(folder, substances_toml):
    with open(substances_toml, "rb") as f:
        catalogue = tomllib.load(f)
    class_of = {s["id"]: s["class"] for s in catalogue["substance"]}

    fylke = {(r["period"], r["area"], r["class"]): r["count"] for r in read(f"{folder}/fylke-counts.csv")}
    weekly = {(r["period"], r["class"]): r["count"] for r in read(f"{folder}/weekly-counts.csv")}
    changes = {
        (r["year"], r["highest_tier"], r["answer"], r["class"]): r["count"]
        for r in read(f"{folder}/result-changes.csv")
    }
    assert not any("all" in key for key in list(fylke) + list(weekly) + list(changes)), "totals are published"

    # Lower bounds from the sample table: rows per (period, class).
    floor = defaultdict(int)
    for r in read(f"{folder}/samples.csv"):
        classes = {class_of[s] for s in r["substances_found"].split("+") if s in class_of}
        for k in classes - {"cutting_agent"}:
            floor[(r["period"], k)] += 1

    problem_cells = 0
    narrowed = []
    solved = 0
    solver = pulp.PULP_CBC_CMD(msg=False)

    def bounds(name, variables, constraints, target):
        """Min and max of `target` over the integer points that satisfy everything."""
        nonlocal solved
        out = []
        for sense in (pulp.LpMinimize, pulp.LpMaximize):
            p = pulp.LpProblem(name, sense)
            p += target
            for c in constraints:
                p += c
            status = p.solve(solver)
            solved += 1
            if pulp.LpStatus[status] != "Optimal":
                raise SystemExit(f"{name}: the published figures admit no counts at all ({pulp.LpStatus[status]})")
            out.append(round(pulp.value(target)))
        return out

    def var(prefix, key, shown, variables):
        low, high = possible(shown)
        v = pulp.LpVariable(f"{prefix}_{len(variables)}", low, high, cat="Integer")
        variables.append(v)
        return v

    # One component per quarter and class: that quarter's fylker and weeks, and the sample table's floors.
    quarters = sorted({q for (q, _, _) in fylke})
    classes = sorted({k for (_, _, k) in fylke})
    weeks_by_quarter = defaultdict(list)
    for (w, k) in weekly:
        weeks_by_quarter[(quarter_of_week(w), k)].append(w)
    for q in quarters:
        for k in classes:
            variables = []
            cells = {("fylke", f): var("f", f, s, variables) for (qq, f, kk), s in fylke.items() if qq == q and kk == k}
            weeks = {("week", w): var("w", w, weekly[(w, k)], variables) for w in weeks_by_quarter[(q, k)]}
            constraints = []
            if weeks:
                constraints.append(pulp.lpSum(cells.values()) == pulp.lpSum(weeks.values()))
            year = q.split("-")[0]
            if floor[(q, k)]:
                constraints.append(pulp.lpSum(cells.values()) >= floor[(q, k)])
            published = {**{c: fylke[(q, c[1], k)] for c in cells}, **{c: weekly[(c[1], k)] for c in weeks}}
            for cell, v in {**cells, **weeks}.items():
                if published[cell] != "<5":
                    continue
                problem_cells += 1
                low, high = bounds(f"q{q}_{k}", variables, constraints, v)
                if low > 0 or high < MIN_SHOWN - 1:
                    narrowed.append(f"{q} {k} {cell}: {low}-{high}")
            del year

    # Year-level floors of the sample table bound a whole year's weeks of a class: checked on the weekly cells.
    for (period, k), n in floor.items():
        if "-Q" in period:
            continue
        variables = []
        weeks = {w: var("y", w, s, variables) for (w, kk), s in weekly.items() if kk == k and w.startswith(period)}
        if not weeks:
            continue
        quarter_floors = sum(m for (p, kk), m in floor.items() if kk == k and p.startswith(f"{period}-Q"))
        constraints = [pulp.lpSum(weeks.values()) >= n + quarter_floors]
        for w, v in weeks.items():
            if weekly[(w, k)] == "<5":
                problem_cells += 1
                low, high = bounds(f"y{period}_{k}", variables, constraints, v)
                if low > 0 or high < MIN_SHOWN - 1:
                    narrowed.append(f"{period} {k} week {w}: {low}-{high}")

    # Result changes: per year and class, the answers against the year's weekly counts.
    for year in sorted({y for (y, _, _, _) in changes}):
        for k in classes:
            variables = []
            answers = {key: var("c", key, s, variables) for key, s in changes.items() if key[0] == year and key[3] == k}
            weeks = [var("w", w, s, variables) for (w, kk), s in weekly.items() if kk == k and w.startswith(year)]
            constraints = []
            for kind in ("intention_", "outcome_"):
                told = [v for key, v in answers.items() if key[2].startswith(kind)]
                if told and weeks:
                    constraints.append(pulp.lpSum(told) <= pulp.lpSum(weeks))
            for key, v in answers.items():
                if changes[key] == "<5":
                    problem_cells += 1
                    low, high = bounds(f"c{year}_{k}", variables, constraints, v)
                    if low > 0 or high < MIN_SHOWN - 1:
                        narrowed.append(f"{' '.join(key)}: {low}-{high}")

    print(f"{problem_cells} cells published as <5 attacked with {solved} integer programs; {len(narrowed)} narrowed")
    for n in narrowed:
        print(f"  narrowed: {n}")
    if problem_cells == 0:
        raise SystemExit("nothing to attack: the data has no small cells")
    sys.exit(1 if narrowed else 0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
