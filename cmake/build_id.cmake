# build_id.cmake — a hash of the compiler's sources, so that artefacts cached
# by one build of the compiler are never reused by another.
#   cmake -DOUT=build_id.h -DCOMPILER_DIR=... -DLANG_DIR=... -P build_id.cmake
# rt_math is the arithmetic of exp, expm1 and tanh that cgmath.c emits.
file(GLOB sources ${COMPILER_DIR}/*.c ${COMPILER_DIR}/*.h ${LANG_DIR}/*.y ${LANG_DIR}/*.l
     ${COMPILER_DIR}/../runtime/rt_math.c ${COMPILER_DIR}/../runtime/rt_math.h)
list(SORT sources)
set(all "")
foreach(f ${sources})
  file(SHA256 ${f} h)
  string(APPEND all "${h}")
endforeach()
string(SHA256 id "${all}")
string(SUBSTRING ${id} 0 16 id)
set(text "/* generated: a hash of the compiler's sources; do not edit */\n#define AOT_BUILD_ID \"${id}\"\n")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUT} "${text}")
endif()
