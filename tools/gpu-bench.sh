#!/usr/bin/env bash
# The prepared GPU check: run it first whenever a machine with a real GPU is at hand.
# It records what the device is, whether the GPU reproduces the CPU on the shipped
# networks (galvani compare; this also catches f32 denormals flushed to zero breaking
# CPU = GPU), and how fast the GPU runs the benchmark suite (CUBA, COBA, Brunel, HV,
# PD14), with the CPU of the same machine on PD14 for reference. Budget: under 8 minutes
# on an H100 (each step has its own timeout).
#
# Usage: tools/gpu-bench.sh [OUTDIR]
#   OUTDIR: where the results go (default: $OUT when set, else ./gpu-bench-out):
#     devices.txt        nvidia-smi and `galvani devices`
#     compare.txt        `galvani compare` per config (exit code after each)
#     bench_gpu.jsonl    `galvani bench --suite --backend gpu` (one JSON line per run,
#                        then the table of best times)
#     bench_cpu.jsonl    PD14 (100 ms) and CUBA on the CPU, every core
#     bench_checks.jsonl PD14 (300 ms) on the GPU with wgpu's shader runtime checks on
#                        and off (GALVANI_GPU_CHECKS=all / none), interleaved
#     summary.txt        the lines that matter, for a note
#   GALVANI_BIN: the galvani binary (default target/release/galvani, built if missing).
#   A machine without a Vulkan loader needs one first (see the device README:
#   libvulkan1 unpacked with dpkg -x, then ldconfig).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-${OUT:-gpu-bench-out}}"
mkdir -p "$out"
bin="${GALVANI_BIN:-target/release/galvani}"
if [ ! -x "$bin" ]; then
  cargo build --release --bin galvani || exit 1
fi
t0=$(date +%s)
step() { echo "== $* ($(( $(date +%s) - t0 )) s)"; }

step "devices"
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
  nproc
  timeout 60 "$bin" devices 2>&1
} >"$out/devices.txt"
cat "$out/devices.txt"

step "compare (CPU f32 vs GPU f32)"
: >"$out/compare.txt"
for cfg in configs/cuba.toml configs/coba.toml configs/brunel.toml configs/hv_network.toml \
           configs/hv_pair.toml configs/pd14_small.toml; do
  [ -f "$cfg" ] || continue
  echo "-- $cfg" >>"$out/compare.txt"
  timeout 120 "$bin" compare "$cfg" >>"$out/compare.txt" 2>&1
  echo "exit $?" >>"$out/compare.txt"
done
grep -E "^-- |^exit|^agree|^differ|FAIL|\[fail" "$out/compare.txt" | head -40

step "bench --suite on the GPU"
timeout 330 "$bin" bench --suite --backend gpu --repeat 3 >"$out/bench_gpu.jsonl" 2>&1
echo "exit $?" >>"$out/bench_gpu.jsonl"
sed -n '/^best of/,$p' "$out/bench_gpu.jsonl"

step "the CPU of this machine (PD14 100 ms, CUBA 1 s; every core)"
{
  timeout 150 "$bin" bench configs/pd14.toml --backend cpu --duration-ms 100 --repeat 2
  timeout 60 "$bin" bench configs/cuba.toml --backend cpu --repeat 2
} >"$out/bench_cpu.jsonl" 2>&1
cat "$out/bench_cpu.jsonl"

step "what wgpu's shader runtime checks cost (PD14 300 ms, GPU, checks all / none)"
: >"$out/bench_checks.jsonl"
for c in all none all none; do
  echo "-- GALVANI_GPU_CHECKS=$c" >>"$out/bench_checks.jsonl"
  GALVANI_GPU_CHECKS=$c timeout 90 "$bin" bench configs/pd14.toml --backend gpu \
    --duration-ms 300 --repeat 2 >>"$out/bench_checks.jsonl" 2>&1
done
grep -E '^-- |"run_s"' "$out/bench_checks.jsonl" | head -20

step "done"
{
  echo "galvani GPU check, $(date -u +%FT%TZ)"
  head -2 "$out/devices.txt"
  grep -E "^-- |^exit" "$out/compare.txt" | paste - -
  sed -n '/^best of/,$p' "$out/bench_gpu.jsonl"
  grep -h '"run_s"' "$out/bench_cpu.jsonl" | head -4
  grep -E '^-- |"run_s"' "$out/bench_checks.jsonl"
} >"$out/summary.txt"
cat "$out/summary.txt"
