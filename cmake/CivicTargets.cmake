# Helpers that give our own targets one set of compile rules. Generated code is compiled without
# these (protoc's output is not ours to keep warning-free).

# Designated initializers leave unnamed fields at their defaults on purpose.
set(CP_WARNINGS -Wall -Wextra -Wpedantic -Werror -Wno-unused-parameter -Wno-missing-field-initializers)

# cp_library(NAME SOURCES ... DEPS ...): a static library of our own code.
function(cp_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${CP_WARNINGS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# cp_executable(NAME SOURCES ... DEPS ...): a binary of our own code.
function(cp_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${CP_WARNINGS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()

# cp_test(NAME SOURCES ... DEPS ... LABELS ... [NEEDS_DB] [NEEDS_REDIS]): a GoogleTest binary
# registered with ctest under the given labels. NEEDS_DB / NEEDS_REDIS attach the ctest fixtures that
# start a throwaway PostgreSQL / Redis (tests/CMakeLists.txt) and pass their addresses in CP_TEST_*.
function(cp_test name)
  cmake_parse_arguments(ARG "NEEDS_DB;NEEDS_REDIS" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${CP_WARNINGS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  set(fixtures "")
  set(env "")
  if(ARG_NEEDS_DB)
    list(APPEND fixtures cp_postgres)
    list(APPEND env "CP_TEST_PG_URL=${CP_TEST_PG_URL}")
  endif()
  if(ARG_NEEDS_REDIS)
    list(APPEND fixtures cp_redis)
    list(APPEND env "CP_TEST_REDIS_ADDR=${CP_TEST_REDIS_ADDR}")
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 300)
  if(fixtures)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED "${fixtures}" ENVIRONMENT "${env}")
  endif()
endfunction()
