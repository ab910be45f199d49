# collector_bench: end-to-end ingest of the collector (8 simulated agents over TCP, fsync-
# acknowledged) against the raw RocksDB ceiling for the same batches.
if(NOT TARGET blackbox_test_support)  # tests not built: the shared fixtures still are
  add_subdirectory(${PROJECT_SOURCE_DIR}/tests/support ${PROJECT_BINARY_DIR}/tests/support)
endif()
add_executable(collector_bench collector_bench.cc)
target_link_libraries(collector_bench PRIVATE blackbox_collector_lib blackbox_test_support
                                              benchmark::benchmark)
