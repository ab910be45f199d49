# The agent's benchmarks: agent_e2e_bench (file → real blackbox-agent → acknowledging sink,
# the issue-3 figures) and agent_bench (Google Benchmark: the hot path's stages).
if(NOT TARGET blackbox_agent_test_support)
  add_library(blackbox_agent_test_support STATIC
    ${PROJECT_SOURCE_DIR}/tests/agent/support/agent_process.cc
    ${PROJECT_SOURCE_DIR}/tests/agent/support/test_peer.cc)
  target_include_directories(blackbox_agent_test_support PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(blackbox_agent_test_support PUBLIC blackbox::schemas Threads::Threads)
  target_compile_definitions(blackbox_agent_test_support
    PRIVATE BLACKBOX_AGENT_BIN="$<TARGET_FILE:blackbox-agent>")
endif()

add_executable(agent_e2e_bench ${CMAKE_CURRENT_LIST_DIR}/agent_e2e.cc)
target_link_libraries(agent_e2e_bench PRIVATE blackbox_agent_test_support)
add_dependencies(agent_e2e_bench blackbox-agent)

add_executable(agent_bench ${CMAKE_CURRENT_LIST_DIR}/agent_stages.cc)
target_link_libraries(agent_bench PRIVATE blackbox_agent_lib benchmark::benchmark)
