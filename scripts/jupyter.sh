#!/usr/bin/env bash
# Set up the environment (scripts/setup.sh) and start Jupyter in notebooks/: the one command of
# the workshop (docs/workshop.md).
#
#   bash scripts/jupyter.sh [OPTIONS] [JUPYTER ARGS...]
#
#   --offline          no network: every notebook uses the shipped model (PROGAN_TF_MODEL=bundled),
#                      and an environment that is already set up is not reinstalled
#                      (same as PROGAN_TF_OFFLINE=1)
#   --hub-cache DIR    TFHUB_CACHE_DIR=DIR, a TF Hub cache copied from a machine that downloaded
#                      progan-128; with --offline the notebooks then use progan-128 from it
#   --data DIR         PROGAN_TF_DATA=DIR, the face photos of notebooks 03 and 04
#   --wheels DIR       install from this folder of wheels only (pip wheel / pip download)
#   --notebook         the Notebook interface even when JupyterLab is installed
#   --no-setup         do not run scripts/setup.sh
#   --print-command    print the command that would start Jupyter (with the variables it sets),
#                      install nothing, start nothing
#   -h, --help         show this help
#   --                 everything after it goes to Jupyter
#
# Any other argument goes to Jupyter (e.g. --port 8889 --no-browser). Run as root (in a
# container, say), it passes Jupyter the --allow-root it needs then, and says so. Nothing is
# registered outside the repository: the kernel is .venv's own Python (JUPYTER_PREFER_ENV_PATH=1
# puts .venv's kernel before any "python3" kernel in your home folder), and no kernelspec is
# installed.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
NOTEBOOKS="$REPO/notebooks"
PROGAN_128="https://tfhub.dev/google/progan-128/1"

die() {
  echo "jupyter.sh: error: $*" >&2
  exit 2
}

usage() {  # the comment at the top of this file
  local line
  while IFS= read -r line; do
    case "$line" in
      "#!"*) ;;
      "#"*) line=${line#\#}; echo "${line# }" ;;
      *) break ;;
    esac
  done < "$0"
}

absolute_dir() {  # absolute_dir OPTION DIR: DIR as an absolute path; it must be a folder
  [ -d "$2" ] || die "$1 $2: no such folder"
  (cd "$2" && pwd)
}

offline=false
case "${PROGAN_TF_OFFLINE:-}" in
  1|true|yes) offline=true ;;
  ""|0|false|no) ;;
  *) die "PROGAN_TF_OFFLINE must be 1 or 0, got '$PROGAN_TF_OFFLINE'" ;;
esac
hub_cache="" data="" wheels="" frontend="" setup=true print_only=false
jupyter_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --offline) offline=true ;;
    --notebook) frontend=notebook ;;
    --no-setup) setup=false ;;
    --print-command) print_only=true ;;
    --hub-cache|--data|--wheels)
      [ $# -ge 2 ] && [ -n "$2" ] && [ "${2#--}" = "$2" ] || die "$1 needs a folder"
      case "$1" in
        --hub-cache) hub_cache=$(absolute_dir "$1" "$2") ;;
        --data) data=$(absolute_dir "$1" "$2") ;;
        --wheels) wheels=$(absolute_dir "$1" "$2") ;;
      esac
      shift ;;
    --hub-cache=*|--data=*|--wheels=*)
      option=${1%%=*} value=${1#*=}
      [ -n "$value" ] || die "$option needs a folder"
      case "$option" in
        --hub-cache) hub_cache=$(absolute_dir "$option" "$value") ;;
        --data) data=$(absolute_dir "$option" "$value") ;;
        --wheels) wheels=$(absolute_dir "$option" "$value") ;;
      esac ;;
    --) shift; jupyter_args+=("$@"); break ;;
    *) jupyter_args+=("$1") ;;
  esac
  shift
done

# The variables the notebooks read; only these are set (and printed by --print-command).
settings=("JUPYTER_PREFER_ENV_PATH=1")
if [ -n "$hub_cache" ]; then
  settings+=("TFHUB_CACHE_DIR=$hub_cache")
fi
if $offline; then
  if [ -n "$hub_cache" ]; then
    # TF Hub keeps a download in a folder named by the SHA-1 of its URL.
    key=$(printf %s "$PROGAN_128" | { sha1sum 2>/dev/null || shasum -a 1; } | cut -d' ' -f1)
    [ -f "$hub_cache/$key/saved_model.pb" ] || die "--hub-cache $hub_cache holds no complete" \
      "download of $PROGAN_128 (no $key/saved_model.pb); fill it online with" \
      "TFHUB_CACHE_DIR=$hub_cache .venv/bin/progan-tf generate --model $PROGAN_128 --out check.png," \
      "or leave out --hub-cache to use the bundled model"
    settings+=("PROGAN_TF_MODEL=$PROGAN_128")
  else
    settings+=("PROGAN_TF_MODEL=bundled")
  fi
fi
if [ -n "$data" ]; then
  settings+=("PROGAN_TF_DATA=$data")
fi

installed() {  # progan-tf and a Jupyter front end importable from .venv
  [ -x "$REPO/.venv/bin/python" ] && "$REPO/.venv/bin/python" -c \
    "import progan_tf, ipykernel, jupyter_server" >/dev/null 2>&1
}

if $setup && ! $print_only; then
  if [ -n "$wheels" ]; then
    echo "Installing from $wheels only (no index)..."
    PIP_NO_INDEX=1 PIP_FIND_LINKS="$wheels" bash "$REPO/scripts/setup.sh"
  elif $offline && installed; then
    echo "Offline: using the environment already in .venv (no reinstall)."
  elif $offline; then
    die "progan-tf is not installed in $REPO/.venv, and --offline has no network to install it:" \
      "pass --wheels DIR with a folder of wheels (see docs/workshop.md, 'Offline fallback')"
  else
    bash "$REPO/scripts/setup.sh"
  fi
fi

if [ -z "$frontend" ]; then
  if [ -x "$REPO/.venv/bin/jupyter-lab" ]; then
    frontend=lab
  elif [ -x "$REPO/.venv/bin/jupyter-notebook" ]; then
    frontend=notebook
  elif $print_only; then
    frontend=lab  # what scripts/setup.sh installs (the "jupyter" package brings JupyterLab)
  else
    die "neither JupyterLab nor Notebook is installed in $REPO/.venv; run bash scripts/setup.sh"
  fi
elif [ ! -x "$REPO/.venv/bin/jupyter-notebook" ] && ! $print_only; then
  die "--notebook: the Notebook interface is not installed in $REPO/.venv; run bash scripts/setup.sh"
fi

# Jupyter refuses to start as root ("Running as root is not recommended. Use --allow-root to
# bypass."): containers and some cloud machines run everything as root, so say so and pass it.
root_args=()
if [ "$(id -u)" = 0 ]; then
  given=false
  for arg in ${jupyter_args[@]+"${jupyter_args[@]}"}; do
    [ "$arg" = "--allow-root" ] && given=true
  done
  if ! $given; then
    echo "jupyter.sh: running as root, which Jupyter refuses without --allow-root: passing it" \
      "(better, start as a normal user)" >&2
    root_args=(--allow-root)
  fi
fi

command=("$REPO/.venv/bin/jupyter" "$frontend" "--notebook-dir=$NOTEBOOKS"
  ${root_args[@]+"${root_args[@]}"} ${jupyter_args[@]+"${jupyter_args[@]}"})
if $print_only; then
  printf 'cd %q && env' "$NOTEBOOKS"
  printf ' %q' "${settings[@]}" "${command[@]}"
  printf '\n'
  exit 0
fi
cd "$NOTEBOOKS"
exec env "${settings[@]}" "${command[@]}"
