#!/usr/bin/env bash
# Rolls the stack on this host out to image $1, as the deploy workflows do over SSH (run it in
# the checkout of the repository on the host, e.g. /srv/cartwheel):
#
#   deploy/rollout.sh ghcr.io/example/cartwheel:1.2.0 [--backup] [--health-url URL]
#
# 1. --backup: a verified backup first (`cartwheel backup run`), before anything changes.
# 2. Pull the image, run `migrate up` once with it.
# 3. Start api, worker and scheduler on it (compose replaces the containers one service at a
#    time), then wait for every API container's health check and, with --health-url, for
#    /health/ready through Traefik.
# 4. If any of that fails after the migration: start the previous image again (recorded in
#    deploy/.deployed-image) and exit non-zero. Migrations are forward-only and must be
#    compatible with the previous release (docs/DEPLOYMENT.md); undoing one is a restore.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${1:?usage: deploy/rollout.sh IMAGE [--backup] [--health-url URL]}
shift
BACKUP=0 HEALTH_URL=
while (($#)); do
  case $1 in
    --backup) BACKUP=1 ;;
    --health-url) HEALTH_URL=${2:?--health-url needs a URL}; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
compose() { APP_IMAGE=$1 docker compose -f deploy/compose.yaml -f deploy/compose.prod.yaml --env-file deploy/.env.production "${@:2}"; }
PREVIOUS=$(cat deploy/.deployed-image 2>/dev/null || true)

healthy() {
  local deadline=$((SECONDS + 180)) id status
  while ((SECONDS < deadline)); do
    local all=1
    for id in $(compose "$1" ps -q api); do
      status=$(docker inspect -f '{{.State.Health.Status}}' "$id")
      [[ $status == healthy ]] || all=0
    done
    if ((all)) && { [[ -z $HEALTH_URL ]] || curl -fsS --max-time 5 "$HEALTH_URL" >/dev/null; }; then
      return 0
    fi
    sleep 3
  done
  return 1
}

if ((BACKUP)); then
  echo "backup before the deploy (image ${PREVIOUS:-$IMAGE})"
  compose "${PREVIOUS:-$IMAGE}" run --rm --no-deps worker backup run
fi
compose "$IMAGE" pull api
compose "$IMAGE" run --rm migrate
# --no-deps: the migration ran just above, once; `up` must not run the image's `migrate` again
# (on a rollback, the old image's migrate would refuse the newer schema).
if compose "$IMAGE" up -d --no-deps --remove-orphans api worker scheduler traefik && healthy "$IMAGE"; then
  echo "$IMAGE" >deploy/.deployed-image
  echo "deployed $IMAGE"
  exit 0
fi
echo "the deploy of $IMAGE failed its health checks" >&2
if [[ -n $PREVIOUS ]]; then
  echo "rolling back to $PREVIOUS" >&2
  compose "$PREVIOUS" up -d --no-deps api worker scheduler
  healthy "$PREVIOUS" && echo "rolled back to $PREVIOUS" >&2
fi
exit 1
