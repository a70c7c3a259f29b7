# cp_proto_library(NAME PROTOS a.proto ... DEPS ... [GRPC]): compiles .proto files (paths relative to
# protos/) with Debian's protoc (and grpc_cpp_plugin when GRPC is given) into a static library. The
# generated code lives only in the build tree, one library per package, so a change to one
# package's contract rebuilds only what depends on it.

find_program(CP_PROTOC protoc REQUIRED)
find_program(CP_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
set(CP_PROTO_ROOT ${PROJECT_SOURCE_DIR}/protos)
set(CP_PROTO_OUT ${PROJECT_BINARY_DIR}/gen)
file(MAKE_DIRECTORY ${CP_PROTO_OUT})

function(cp_proto_library name)
  cmake_parse_arguments(ARG "GRPC" "ROOT" "PROTOS;DEPS" ${ARGN})
  if(NOT ARG_ROOT)
    set(ARG_ROOT ${CP_PROTO_ROOT})
  endif()
  set(srcs "")
  set(hdrs "")
  foreach(proto ${ARG_PROTOS})
    string(REGEX REPLACE "\\.proto$" "" base ${proto})
    set(outs ${CP_PROTO_OUT}/${base}.pb.cc ${CP_PROTO_OUT}/${base}.pb.h)
    set(plugin_args "")
    if(ARG_GRPC)
      list(APPEND outs ${CP_PROTO_OUT}/${base}.grpc.pb.cc ${CP_PROTO_OUT}/${base}.grpc.pb.h)
      set(plugin_args --grpc_out=${CP_PROTO_OUT} --plugin=protoc-gen-grpc=${CP_GRPC_CPP_PLUGIN})
    endif()
    add_custom_command(
      OUTPUT ${outs}
      COMMAND ${CP_PROTOC} -I${ARG_ROOT} -I${CP_PROTO_ROOT} --cpp_out=${CP_PROTO_OUT} ${plugin_args}
              ${ARG_ROOT}/${proto}
      DEPENDS ${ARG_ROOT}/${proto} ${CP_PROTOC}
      COMMENT "protoc ${proto}"
      VERBATIM)
    foreach(f ${outs})
      if(f MATCHES "\\.cc$")
        list(APPEND srcs ${f})
      endif()
    endforeach()
  endforeach()
  add_library(${name}_code STATIC ${srcs})
  target_include_directories(${name}_code SYSTEM PUBLIC ${CP_PROTO_OUT})
  target_link_libraries(${name}_code PUBLIC protobuf::libprotobuf gRPC::grpc++ ${ARG_DEPS})
  # Linked whole: a .proto file's descriptors register themselves at start-up, and code that
  # finds methods by name (access policies, the gateway) would miss a file whose object the
  # linker dropped for want of a direct reference.
  add_library(${name} INTERFACE)
  target_link_libraries(${name} INTERFACE "$<LINK_LIBRARY:WHOLE_ARCHIVE,${name}_code>")
endfunction()
