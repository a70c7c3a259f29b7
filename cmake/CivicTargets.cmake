# Helpers that give our own targets one set of compile rules. Generated code is compiled without
# these (protoc's output is not ours to keep warning-free).

# Designated initializers leave unnamed fields at their defaults on purpose.
set(CP_WARNINGS -Wall -Wextra -Wpedantic -Werror -Wno-unused-parameter -Wno-missing-field-initializers)

# Instrumentation, of our own code only: generated code and Debian's libraries stay as they are,
# which keeps a sanitizer or fuzzing build to the time of our own files.
#   CP_SANITIZE  sanitizers, e.g. "address,undefined" (scripts/test-asan.sh)
#   CP_FUZZ      libFuzzer's coverage (scripts/fuzz.sh; the fuzz targets link libFuzzer itself)
set(CP_SANITIZE "" CACHE STRING "sanitizers for our own code, e.g. address,undefined")
set(CP_INSTRUMENT_COMPILE "")
set(CP_INSTRUMENT_LINK "")
if(CP_SANITIZE)
  list(APPEND CP_INSTRUMENT_COMPILE -fsanitize=${CP_SANITIZE} -fno-sanitize-recover=all
       -fno-omit-frame-pointer)
  list(APPEND CP_INSTRUMENT_LINK -fsanitize=${CP_SANITIZE})
  # GCC's flow analysis under the sanitizers' instrumentation warns of uninitialised members
  # inside libstdc++ (std::function in std::regex) that are not; the unsanitized build keeps it.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    list(APPEND CP_INSTRUMENT_COMPILE -Wno-maybe-uninitialized)
  endif()
endif()
if(CP_FUZZ)
  list(APPEND CP_INSTRUMENT_COMPILE -fsanitize=fuzzer-no-link)
endif()

# cp_library(NAME SOURCES ... DEPS ...): a static library of our own code.
function(cp_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${CP_WARNINGS} ${CP_INSTRUMENT_COMPILE})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# cp_executable(NAME SOURCES ... DEPS ...): a binary of our own code.
function(cp_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${CP_WARNINGS} ${CP_INSTRUMENT_COMPILE})
  target_link_options(${name} PRIVATE ${CP_INSTRUMENT_LINK})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()

# cp_test(NAME SOURCES ... DEPS ... LABELS ... [NEEDS_DB] [NEEDS_REDIS] [PEERS service...]): a
# GoogleTest binary registered with ctest under the given labels. NEEDS_DB / NEEDS_REDIS attach the
# ctest fixtures that start a throwaway PostgreSQL / Redis (tests/CMakeLists.txt) and pass their
# addresses in CP_TEST_*. PEERS names the services whose binaries the test starts as processes
# (common/testing/service_process.h), so building the test builds them.
function(cp_test name)
  cmake_parse_arguments(ARG "NEEDS_DB;NEEDS_REDIS" "" "SOURCES;DEPS;LABELS;PEERS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${CP_WARNINGS} ${CP_INSTRUMENT_COMPILE})
  target_link_options(${name} PRIVATE ${CP_INSTRUMENT_LINK})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  foreach(peer ${ARG_PEERS})
    add_dependencies(${name} civicpoints-${peer})
  endforeach()
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

# cp_suite_test(NAME name COMMAND cmd args... [LABELS ...] [TIMEOUT seconds]): a test against the
# whole running suite (ctest fixture cp_suite in tests/CMakeLists.txt: PostgreSQL, Redis, the four
# services and the gateway started once for every such test, with empty stores). The test gets:
#   CP_SUITE_GATEWAY_ADDR   the gateway's gRPC address (127.0.0.1:port)
#   CP_SUITE_HTTP_URL       the gateway's REST/JSON base URL (http://127.0.0.1:port)
#   CP_SUITE_ADMIN_PHONE, CP_SUITE_ADMIN_PASSWORD   the city's first district admin, password
#                           already changed (no first-login prompt)
#   CP_SUITE_RUN_DIR        the suite's folder (suite.env, admin.env, logs/, keys/)
#   CP_SUITE_PG_URL         its PostgreSQL (one schema per service), for what no API can do
# Labels default to e2e; tests share the suite, so each makes names of its own (unique per run).
# They run one at a time (RESOURCE_LOCK cp_suite): the scope walk counts every table's rows and
# must see none appear while it calls, so no other test may write to the suite meanwhile.
function(cp_suite_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "COMMAND;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS e2e)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  math(EXPR http_port "${CP_TEST_SUITE_PORT_BASE} + 20")
  math(EXPR pg_port "${CP_TEST_SUITE_PORT_BASE} + 30")
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_COMMAND})
  set_tests_properties(${ARG_NAME} PROPERTIES
    FIXTURES_REQUIRED cp_suite RESOURCE_LOCK cp_suite LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "CP_SUITE_GATEWAY_ADDR=127.0.0.1:${CP_TEST_SUITE_PORT_BASE};\
CP_SUITE_HTTP_URL=http://127.0.0.1:${http_port};CP_SUITE_ADMIN_PHONE=13900000000;\
CP_SUITE_ADMIN_PASSWORD=${CP_TEST_SUITE_ADMIN_PASSWORD};CP_SUITE_RUN_DIR=${CP_TEST_SUITE_RUN_DIR};\
CP_SUITE_PG_URL=postgresql://civicpoints@127.0.0.1:${pg_port}/civicpoints")
endfunction()
