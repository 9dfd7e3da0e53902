# LibTorch from a Python `torch` wheel (PyPI's CUDA build): where it is, and
# the RPATH that makes hcx load the wheel's libraries, not the CUDA toolkit's.
#
# hcx_use_wheel_torch(PYTHON): sets HCX_WHEEL_SITE (the wheel's site-packages)
# and puts its torch/share/cmake on CMAKE_PREFIX_PATH for find_package(Torch).
# hcx_wheel_rpath(): after find_package(Torch), before any target: every
# executable of the build carries a DT_RPATH of torch/lib and nvidia/*/lib.

function(hcx_use_wheel_torch python)
  # find_spec locates the package without importing it (no CUDA libraries loaded).
  execute_process(
    COMMAND ${python} -c "import importlib.util, os; s = importlib.util.find_spec('torch'); print(os.path.dirname(os.path.dirname(s.origin)) if s else '')"
    OUTPUT_VARIABLE site OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR site STREQUAL "")
    message(FATAL_ERROR "HCX_TORCH_PYTHON=${python}: this Python has no `torch` package "
                        "(make setup-pypi installs one into .venv-torch)")
  endif()
  if(NOT EXISTS "${site}/torch/share/cmake/Torch/TorchConfig.cmake")
    message(FATAL_ERROR "${site}/torch: no LibTorch CMake files in this torch package")
  endif()
  set(HCX_WHEEL_SITE "${site}" PARENT_SCOPE)
  # ${site}/torch too: TorchConfig's find_library(c10 ...) then takes the
  # wheel's torch/lib ahead of the system's lib folders, where Debian's
  # libtorch-dev keeps a 1.13 libc10.so of the same name.
  list(PREPEND CMAKE_PREFIX_PATH "${site}/torch/share/cmake" "${site}/torch")
  set(CMAKE_PREFIX_PATH "${CMAKE_PREFIX_PATH}" PARENT_SCOPE)
  # hcx compiles no .cu file; a fixed arch list only spares cuda.cmake looking
  # for a GPU to detect (H200: 9.0).
  if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
    set(ENV{TORCH_CUDA_ARCH_LIST} "9.0")
  endif()
endfunction()

function(hcx_wheel_rpath)
  # The executables link cudart, cublas, cufft, curand and nvrtc by their
  # toolkit paths, so CMake's default build RPATH names the toolkit's lib/ and
  # the loader would take its copies ahead of the wheel's. Use the wheel's
  # folders only, as DT_RPATH (not RUNPATH): an LD_LIBRARY_PATH pointing at
  # another CUDA cannot override them, and torch's own libraries resolve
  # through the same list.
  file(GLOB nvidia_libs LIST_DIRECTORIES true "${HCX_WHEEL_SITE}/nvidia/*/lib")
  list(SORT nvidia_libs)
  set(CMAKE_SKIP_BUILD_RPATH OFF PARENT_SCOPE)
  set(CMAKE_BUILD_WITH_INSTALL_RPATH ON PARENT_SCOPE)
  set(CMAKE_INSTALL_RPATH "${HCX_WHEEL_SITE}/torch/lib;${nvidia_libs};${HCX_EXTRA_RPATH}" PARENT_SCOPE)
  set(CMAKE_INSTALL_RPATH_USE_LINK_PATH OFF PARENT_SCOPE)
  add_link_options(LINKER:--disable-new-dtags)
  # The wheel's libtorch.so exports its own copies of std::filesystem
  # functions (remove_all, ...) that crash when called from outside it (a
  # null call). The loader binds each symbol to the first library in NEEDED
  # order that defines it, and libstdc++ normally comes last: link it first.
  add_link_options(LINKER:--push-state,--no-as-needed -lstdc++ LINKER:--pop-state)
endfunction()

# The wheel's torch/include carries its own fmt (v12) headers; found first,
# they replace the fmt 9 that Debian's spdlog is built against, and every
# file that includes both LibTorch and spdlog fails to compile. No LibTorch
# header hcx includes uses fmt, so the torch targets get a mirror of
# torch/include without fmt/ (links to every other entry, in the build tree).
function(hcx_wheel_hide_fmt)
  set(include "${HCX_WHEEL_SITE}/torch/include")
  set(mirror "${CMAKE_BINARY_DIR}/wheel-torch-include")
  file(REMOVE_RECURSE "${mirror}")
  file(MAKE_DIRECTORY "${mirror}")
  file(GLOB entries RELATIVE "${include}" "${include}/*")
  foreach(entry ${entries})
    if(NOT entry STREQUAL "fmt")
      file(CREATE_LINK "${include}/${entry}" "${mirror}/${entry}" SYMBOLIC)
    endif()
  endforeach()
  get_directory_property(imported IMPORTED_TARGETS)
  foreach(target ${imported})
    get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
    if(dirs)
      list(TRANSFORM dirs REPLACE "^${include}$" "${mirror}")
      set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${dirs}")
    endif()
  endforeach()
endfunction()
