#!/usr/bin/python3
"""Independent AUROC and DeLong CIs from an eval predictions.csv, for eval_end_to_end_tests.

O(n^2) by definition: psi(x, y) = 1 if x > y, 1/2 if equal, 0 if less, over every positive-
negative pair; V10(i) = mean_j psi(x_i, y_j), V01(j) = mean_i psi(x_i, y_j); Var = S10/m + S01/n
with sample variances (n-1 denominators); 95 % CI = AUC +- 1.959963984540054 SE, clipped to
[0, 1]. Macro: the mean of the class AUROCs, Var = 1/K^2 sum_k sum_l sum_i psi_k(i) psi_l(i) with
psi_k(i) = (V10_k(i) - AUC_k)/sqrt(m_k(m_k-1)) for a positive of k, (V01_k(i) - AUC_k)/
sqrt(n_k(n_k-1)) for a negative. Prints JSON {class: {auroc, ci95}, "macro": {auroc, ci95}}."""
import csv, json, math, sys

Z = 1.959963984540054


def psi(x, y):
    return 1.0 if x > y else 0.5 if x == y else 0.0


def main(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    classes = [h[2:] for h in header[2:]]
    multi = header[1] == "labels"
    out, comps = {}, []
    for k, name in enumerate(classes):
        if multi:
            pos_flags = [name in r[1].split(";") for r in rows]
        else:
            pos_flags = [r[1] == name for r in rows]
        s = [float(r[2 + k]) for r in rows]
        P = [i for i in range(len(rows)) if pos_flags[i]]
        N = [i for i in range(len(rows)) if not pos_flags[i]]
        m, n = len(P), len(N)
        v10 = {i: sum(psi(s[i], s[j]) for j in N) / n for i in P}
        v01 = {j: sum(psi(s[i], s[j]) for i in P) / m for j in N}
        auc = sum(v10.values()) / m
        s10 = sum((v - auc) ** 2 for v in v10.values()) / (m - 1)
        s01 = sum((v - auc) ** 2 for v in v01.values()) / (n - 1)
        se = math.sqrt(s10 / m + s01 / n)
        out[name] = {"auroc": auc, "ci95": [max(0.0, auc - Z * se), min(1.0, auc + Z * se)]}
        c = [0.0] * len(rows)
        for i in P:
            c[i] = (v10[i] - auc) / math.sqrt(m * (m - 1))
        for j in N:
            c[j] = (v01[j] - auc) / math.sqrt(n * (n - 1))
        comps.append((auc, c))
    K = len(comps)
    macro = sum(a for a, _ in comps) / K
    var = sum(sum(ck * cl for ck, cl in zip(comps[k][1], comps[l][1])) for k in range(K) for l in range(K)) / K**2
    se = math.sqrt(var)
    out["macro"] = {"auroc": macro, "ci95": [max(0.0, macro - Z * se), min(1.0, macro + Z * se)]}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
