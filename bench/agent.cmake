# The agent's benchmarks: agent_e2e_bench (file → real blackbox-agent → acknowledging sink,
# the issue-3 figures) and agent_bench (Google Benchmark: the hot path's stages).
if(NOT TARGET blackbox_test_support)  # tests not built: the shared fixtures still are
  add_subdirectory(${PROJECT_SOURCE_DIR}/tests/support ${PROJECT_BINARY_DIR}/tests/support)
endif()

add_executable(agent_e2e_bench ${CMAKE_CURRENT_LIST_DIR}/agent_e2e.cc)
target_link_libraries(agent_e2e_bench PRIVATE blackbox_test_support)
target_compile_definitions(agent_e2e_bench PRIVATE BLACKBOX_AGENT_BIN="$<TARGET_FILE:blackbox-agent>")
add_dependencies(agent_e2e_bench blackbox-agent)

add_executable(agent_bench ${CMAKE_CURRENT_LIST_DIR}/agent_stages.cc)
target_link_libraries(agent_bench PRIVATE blackbox_agent_lib blackbox_test_support
                                          benchmark::benchmark)
