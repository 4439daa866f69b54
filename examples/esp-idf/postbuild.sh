#!/usr/bin/env bash
# postbuild.sh BUILD_DIR [OUTPUT]
#
# After `idf.py build`: verify every file ESP-IDF lists in BUILD_DIR/flash_args (bootloader,
# partition table, app, ota_data_initial.bin...), merge them at their addresses into one flash
# image from 0x0 (default BUILD_DIR/<project>-merged.bin) with the flash mode, clock and size
# from flash_args (as `idf.py flash` writes them), and verify the result.
#
# Exit codes: 0 merged and verified; 1 a build output or the merged image is damaged; 2 usage
# error or missing files. Set ESP_IMAGE to use an esp-image other than the one on PATH.
set -euo pipefail

prog=${0##*/}
esp_image=${ESP_IMAGE:-esp-image}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $prog BUILD_DIR [OUTPUT]" >&2
    exit 2
fi
build=${1%/}
flash_args=$build/flash_args
if [ ! -f "$flash_args" ]; then
    echo "$prog: $flash_args not found (run idf.py build first)" >&2
    exit 2
fi

options=()   # esp-image merge options from the first line of flash_args
parts=()     # ADDR=FILE
files=()     # the files, for verify
project=""
read -r -d '' -a words < "$flash_args" || true
i=0
while [ "$i" -lt "${#words[@]}" ]; do
    word=${words[$i]}
    value=${words[$((i + 1))]:-}
    i=$((i + 2))
    case $word in
        --flash_mode|--flash-mode|--flash_freq|--flash-freq|--flash_size|--flash-size)
            case $value in
                ""|detect|keep) ;;   # nothing to set: the bootloader header stays as built
                *) options+=("${word//_/-}" "$value") ;;
            esac
            ;;
        --*)
            echo "$prog: $flash_args: option $word is not supported here" >&2
            exit 2
            ;;
        *)
            file=$build/$value
            if [ -z "$value" ] || [ ! -f "$file" ]; then
                echo "$prog: $flash_args: $word: file '$value' not found in $build" >&2
                exit 2
            fi
            parts+=("$word=$file")
            files+=("$file")
            case $value in
                */*|ota_data_initial.bin) ;;
                *.bin) project=${value%.bin} ;;   # the app: <project>.bin at the top level
            esac
            ;;
    esac
done
if [ "${#parts[@]}" -eq 0 ]; then
    echo "$prog: $flash_args lists no files" >&2
    exit 2
fi
output=${2:-$build/${project:-firmware}-merged.bin}

echo "== verifying ${#files[@]} build outputs"
if ! "$esp_image" verify "${files[@]}"; then
    echo "$prog: a build output is damaged; not merging" >&2
    exit 1
fi

echo "== merging into $output"
"$esp_image" merge -o "$output" ${options[@]+"${options[@]}"} "${parts[@]}"

echo "== verifying $output"
if ! "$esp_image" verify "$output"; then
    echo "$prog: $output does not verify" >&2
    exit 1
fi
echo "flash it with: esptool --port PORT write-flash 0x0 $output"
