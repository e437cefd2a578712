#!/bin/sh
# Joins the six redis-node-N containers into one cluster (3 masters, 3 replicas), once: a cluster that already
# answers cluster_state:ok is left alone, so `docker compose --profile cluster up` can be run again.
set -eu
NODES="redis-node-1 redis-node-2 redis-node-3 redis-node-4 redis-node-5 redis-node-6"

for node in $NODES; do
  until redis-cli -h "$node" ping >/dev/null 2>&1; do sleep 0.5; done
done

if redis-cli -h redis-node-1 cluster info | grep -q 'cluster_state:ok'; then
  echo "cluster already created"
  exit 0
fi

# redis-cli --cluster create wants addresses; the nodes announce their names (cluster-announce-hostname), which is
# what clients are redirected to.
addresses=""
for node in $NODES; do
  addresses="$addresses $(getent hosts "$node" | awk '{ print $1 }'):6379"
done
# shellcheck disable=SC2086 # one argument per address
redis-cli --cluster create $addresses --cluster-replicas 1 --cluster-yes

until redis-cli -h redis-node-1 cluster info | grep -q 'cluster_state:ok'; do sleep 0.5; done
echo "cluster ready"
