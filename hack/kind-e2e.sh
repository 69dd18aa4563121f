#!/usr/bin/env bash
# End-to-end check of the operator and proxy on a real cluster (kind):
# build the image, load it into kind, install the CRDs and manifests, apply
# config/samples, then check the flow the in-process e2e test checks against
# the fake API server:
#   a Remote becomes Ready and its URL serves content through the proxy;
#   deleting the Remote makes the URL answer 404 after the hot reload.
# Needs docker, kind and kubectl. Not part of `npm test` (no Docker here).
#
#   npm run e2e:kind                 # creates and deletes cluster orchard-e2e
#   KEEP_CLUSTER=1 npm run e2e:kind  # leaves it running for inspection
set -euo pipefail

CLUSTER=${CLUSTER:-orchard-e2e}
IMAGE=${IMAGE:-orchard:dev}
NS=orchard-system
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

for bin in docker kind kubectl; do
  command -v "$bin" >/dev/null || { echo "kind-e2e: $bin is required" >&2; exit 2; }
done

log() { printf '\n== %s\n' "$*"; }
cleanup() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    log "FAILED; operator and proxy logs follow"
    kubectl -n "$NS" logs deploy/orchard-operator --tail=100 || true
    kubectl -n "$NS" logs deploy/orchard-proxy --tail=100 || true
    kubectl get remotes -o wide || true
  fi
  kill "${PF_PID:-}" 2>/dev/null || true
  kill "${UPSTREAM_PID:-}" 2>/dev/null || true
  if [ -z "${KEEP_CLUSTER:-}" ]; then kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true; fi
  exit $rc
}
trap cleanup EXIT

log "build $IMAGE"
docker build -t "$IMAGE" .

log "kind cluster $CLUSTER"
kind get clusters | grep -qx "$CLUSTER" || kind create cluster --name "$CLUSTER" --wait 120s
kind load docker-image "$IMAGE" --name "$CLUSTER"

log "CRDs, RBAC, operator, proxy"
kubectl apply -f crds/
kubectl wait --for=condition=Established crd --all --timeout=60s
kubectl apply -f config/manager/namespace.yaml
kubectl apply -k config/rbac
kubectl apply -k config/manager
kubectl apply -k config/proxy
# One proxy on embedded backends (no PostgreSQL/S3/Redis in this check).
kubectl -n "$NS" delete hpa orchard-proxy --ignore-not-found
kubectl -n "$NS" set env deploy/orchard-proxy ORCHARD_CLUSTERED=false
kubectl -n "$NS" scale deploy/orchard-proxy --replicas=1
kubectl -n "$NS" rollout status deploy/orchard-operator --timeout=180s
kubectl -n "$NS" rollout status deploy/orchard-proxy --timeout=180s

log "samples"
kubectl apply -f config/samples/
kubectl wait --for=jsonpath='{.status.observedGeneration}'=1 remotes --all --timeout=120s
kubectl get remotes
kubectl get virtualrepositories,projects,packages

log "an upstream the cluster can reach: a pod serving one file (namespace default)"
kubectl -n default run e2e-upstream --image="$IMAGE" --restart=Never --port=9000 \
  --command -- node -e "require('node:http').createServer((q,s)=>{if(q.url==='/files/hello.txt'){s.end('hello from upstream')}else{s.statusCode=404;s.end()}}).listen(9000)"
kubectl -n default expose pod e2e-upstream --port=9000
kubectl -n default wait --for=condition=Ready pod/e2e-upstream --timeout=120s

log "apply a Remote and fetch through the proxy"
cat <<YAML | kubectl apply -f -
apiVersion: orchard.dev/v1alpha1
kind: Remote
metadata:
  name: e2e-files
spec:
  type: remote
  package: generic
  baseUrl: http://e2e-upstream.default.svc:9000/files
YAML
kubectl wait --for=condition=Ready remote/e2e-files --timeout=120s
kubectl -n "$NS" port-forward svc/orchard-proxy 18080:8080 >/dev/null 2>&1 &
PF_PID=$!
sleep 3

fetch_status() { curl -s -o /tmp/kind-e2e-body -w '%{http_code}' "http://127.0.0.1:18080/api/v1/remote/e2e-files/hello.txt" || true; }
# The kubelet refreshes projected volumes within about a minute; the proxy reloads on the swap.
for _ in $(seq 1 60); do
  [ "$(fetch_status)" = 200 ] && break
  sleep 3
done
[ "$(fetch_status)" = 200 ] || { echo "expected 200 from the proxy" >&2; exit 1; }
grep -qx 'hello from upstream' /tmp/kind-e2e-body || { echo "unexpected body" >&2; exit 1; }
echo "200 with the upstream content"

log "delete the Remote: 404 after the reload"
kubectl delete remote e2e-files
for _ in $(seq 1 60); do
  [ "$(fetch_status)" = 404 ] && break
  sleep 3
done
[ "$(fetch_status)" = 404 ] || { echo "expected 404 after deleting the Remote" >&2; exit 1; }
echo "404 after the Remote was deleted"

log "printer columns"
kubectl get remotes
log "kind e2e passed"
