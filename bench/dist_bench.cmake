# cxr_dist_bench (bench/dist_bench.sh): allreduce and data-parallel training-step timings.
add_executable(cxr_dist_bench ${CMAKE_CURRENT_LIST_DIR}/dist_bench.cpp)
target_link_libraries(cxr_dist_bench PRIVATE cxr_backends cxr_world)
