#!/usr/bin/env bash
# Look at a Word report as a reader would: .docx → PDF (LibreOffice, headless) → one PNG per
# page (pdftoppm). Without a .docx, renders the 2019 golden case of quality-district-funding
# 1.0.1 first (jixiao report --local).
#
#   scripts/report_preview.sh [REPORT.docx] [OUT_DIR] [DPI]
#
# OUT_DIR defaults to build/report-preview, DPI to 60 (small pages; 100+ to read the tables).
# Skips, saying why, when soffice or pdftoppm is not installed (Debian: libreoffice-writer,
# poppler-utils; CJK text needs a CJK font such as fonts-noto-cjk).
set -euo pipefail
cd "$(dirname "$0")/.."

report=${1:-}
out=${2:-build/report-preview}
dpi=${3:-60}

missing=()
command -v soffice >/dev/null 2>&1 || missing+=("soffice (LibreOffice)")
command -v pdftoppm >/dev/null 2>&1 || missing+=("pdftoppm (poppler-utils)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "report_preview: skipped: ${missing[*]} not installed" >&2
  exit 0
fi
if ! [[ "$dpi" =~ ^[0-9]{2,3}$ ]]; then
  echo "report_preview: DPI must be a number from 10 to 999, got '$dpi'" >&2
  exit 2
fi

mkdir -p "$out"
if [ -z "$report" ]; then
  report="$out/report-2019.docx"
  .venv/bin/jixiao report rules/quality-district-funding/1.0.1/cases/2019.yaml \
    --pack quality-district-funding --version 1.0.1 --local --out "$report" 2>/dev/null
fi
if [ ! -f "$report" ]; then
  echo "report_preview: no such file: $report" >&2
  exit 2
fi

name=$(basename "$report" .docx)
# A profile of its own: a LibreOffice already running for the user does not take the job.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
soffice -env:UserInstallation="file://$profile" --headless --convert-to pdf --outdir "$out" "$report" >/dev/null
rm -f "$out/$name"-page-*.png
pdftoppm -png -r "$dpi" "$out/$name.pdf" "$out/$name-page"
pages=$(ls "$out/$name"-page-*.png | wc -l)
echo "$out/$name.pdf: $pages pages as $out/$name-page-*.png (${dpi} dpi)"
