# The source commit of this build, run by the hcx_commit target at every build
# (lib/CMakeLists.txt): `cmake -DSRC=<source dir> -DOUT=<file.cpp> [-DGIT=<git>]
# -P build_commit.cmake` writes OUT defining hcx::build_commit() as
# "<sha>", "<sha>-dirty" (tracked files differ from HEAD) or "" (SRC is not
# the top of a git checkout, or no git). OUT is rewritten only when its text
# changes, so an unchanged commit recompiles and relinks nothing.
if(NOT GIT)
  find_program(GIT git)
endif()
set(commit "")
if(GIT)
  execute_process(COMMAND ${GIT} -C ${SRC} rev-parse --show-toplevel
                  OUTPUT_VARIABLE top RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  # A source tree unpacked inside some other repository is not a checkout of hcx.
  get_filename_component(src_real "${SRC}" REALPATH)
  if(rc EQUAL 0 AND NOT top STREQUAL "")
    get_filename_component(top_real "${top}" REALPATH)
  endif()
  if(rc EQUAL 0 AND top_real STREQUAL src_real)
    execute_process(COMMAND ${GIT} -C ${SRC} rev-parse --verify HEAD
                    OUTPUT_VARIABLE sha RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(rc EQUAL 0)
      # --no-optional-locks: reading must not take index.lock from a concurrent git.
      execute_process(COMMAND ${GIT} --no-optional-locks -C ${SRC} diff --quiet HEAD --
                      RESULT_VARIABLE dirty OUTPUT_QUIET ERROR_QUIET)
      set(commit "${sha}")
      if(NOT dirty EQUAL 0)
        set(commit "${sha}-dirty")
      endif()
    endif()
  endif()
endif()
set(text "// Generated at build time by cmake/build_commit.cmake; do not edit.
#include \"hcx/build_info.h\"

namespace hcx {
const char* build_commit() { return \"${commit}\"; }
}  // namespace hcx
")
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
