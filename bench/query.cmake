# query_bench: the post-mortem queries against a store of many instances (100,000 records
# each across 100 instances, as in issue 5; BLACKBOX_BENCH_INSTANCES scales it down):
# `logs I --last 10m` p50/p99 (API client and the real CLI) and a whole-instance grep in MB/s
# of raw lines beside `grep -c` and `rg -c` over the same lines in the same run.
if(NOT TARGET blackbox_test_support)  # tests not built: the shared fixtures still are
  add_subdirectory(${PROJECT_SOURCE_DIR}/tests/support ${PROJECT_BINARY_DIR}/tests/support)
endif()
add_executable(query_bench ${CMAKE_CURRENT_LIST_DIR}/query_bench.cc)
target_include_directories(query_bench PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(query_bench PRIVATE BLACKBOX_CLI_BIN="$<TARGET_FILE:blackbox>")
target_link_libraries(query_bench PRIVATE
  blackbox_collector_http blackbox_collector_query blackbox_query_lib blackbox_test_support
  benchmark::benchmark
  nlohmann_json::nlohmann_json)
add_dependencies(query_bench blackbox)
