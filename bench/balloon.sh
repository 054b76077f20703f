#!/bin/bash
# bench/balloon: how fast a Linux guest gives 1 GiB back to petrel, and
# petrel's RSS along the way: by inflating the balloon (PATCH /balloon
# amount_mib=1024) and by free page reporting (the guest frees 1 GiB).
#   bench/balloon.sh [RUNS]       (default 3 each)
exec "$(dirname "$0")/run-in-lab.sh" balloon 6G 1800 "$@"
