# collector_bench: end-to-end ingest of the collector (8 simulated agents over TCP, fsync-
# acknowledged) against the raw RocksDB ceiling for the same batches.
add_executable(collector_bench
  collector_bench.cc
  ${PROJECT_SOURCE_DIR}/tests/collector/test_agent.cc
)
target_link_libraries(collector_bench PRIVATE blackbox_collector_lib benchmark::benchmark)
