#!/usr/bin/env bash
# NIH ChestX-ray14 layout resolution at full size: a generated Data_Entry_2017.csv of 112,120
# rows (the distributed header, 30,805 patients, random findings, PA/AP), the official
# train_val_list.txt / test_list.txt, and 112,120 empty image files named right under
# images_001/images ... images_012/images (the resolution only indexes the folder; it does not
# decode). Times `cxrtune dataset` (CSV parse + folder index + split + hashing + printing the
# 112,120 rows to /dev/null), best of three. Usage: bench/nih_layout_bench.sh [BUILD_DIR]
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
WORK=$(mktemp -d /tmp/cxr_nih_bench.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
/usr/bin/python3 - "$WORK" <<'PYEOF'
import os, random, sys
root = sys.argv[1]
rng = random.Random(17)
labels = ["Atelectasis", "Cardiomegaly", "Effusion", "Infiltration", "Mass", "Nodule", "Pneumonia",
          "Pneumothorax", "Consolidation", "Edema", "Emphysema", "Fibrosis", "Pleural_Thickening", "Hernia"]
rows, names, n, patients = [], [], 112120, 30805
follow, last = 0, 0
for i in range(n):
    patient = i * patients // n + 1  # 3.6 images per patient on average, as in the release
    follow = follow + 1 if patient == last else 0
    last = patient
    name = "%08d_%03d.png" % (patient, follow)
    k = rng.choice([0, 0, 1, 1, 2])
    found = "|".join(rng.sample(labels, k)) if k else "No Finding"
    rows.append("%s,%s,%d,%d,%d,%s,%s,2500,2048,0.168,0.168," % (
        name, found, follow, patient, rng.randint(1, 90), rng.choice("MF"), rng.choice(["PA", "AP"])))
    names.append(name)
with open(os.path.join(root, "Data_Entry_2017.csv"), "w") as f:
    f.write("Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,"
            "OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],\n")
    f.write("\n".join(rows) + "\n")
cut = int(len(names) * 0.77)
open(os.path.join(root, "train_val_list.txt"), "w").write("\n".join(names[:cut]) + "\n")
open(os.path.join(root, "test_list.txt"), "w").write("\n".join(names[cut:]) + "\n")
per = (n + 11) // 12
for b in range(12):
    d = os.path.join(root, "images_%03d" % (b + 1), "images")
    os.makedirs(d)
    for name in names[b * per:(b + 1) * per]:
        open(os.path.join(d, name), "w").close()
print("rows %d, patients %d" % (n, patients))
PYEOF
printf 'model: {num_classes: 14}\ndata: {train: %s/Data_Entry_2017.csv}\nloss: {name: bce}\n' "$WORK" > "$WORK/nih.yaml"
best=""
for i in 1 2 3; do
  start=$(date +%s.%N)
  "$BUILD/cli/cxrtune" dataset "$WORK/nih.yaml" > "$WORK/rows.csv" 2> "$WORK/summary.txt"
  end=$(date +%s.%N)
  t=$(echo "$end - $start" | bc)
  if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
done
head -3 "$WORK/summary.txt"
echo "rows printed: $(($(wc -l < "$WORK/rows.csv") - 1))"
echo "cxrtune dataset, 112120-row NIH CSV + image-folder index: best of 3 ${best} s"
