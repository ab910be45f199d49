# codec_bench: the wire-format hot paths of blackbox::schemas (record encoding, batch seal with
# and without zstd, batch decode, CRC32C, SHA-256, frames), in MB/s of raw log lines.
add_executable(codec_bench codec_bench.cc)
target_link_libraries(codec_bench PRIVATE blackbox::schemas benchmark::benchmark)
