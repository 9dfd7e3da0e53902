# Dependencies from a folder of unpacked Debian packages (HCX_BUNDLE, made by
# `make gpu-bundle` on a build machine): for a machine with a compiler, CMake
# and a Python torch but none of the dev packages, like this project's GPU
# machines (scripts/gpu_check.sh). Every package is found in the bundle only;
# its shared libraries (spdlog, fmt, sqlite) join the RPATH (HCX_EXTRA_RPATH).
set(_usr "${HCX_BUNDLE}/usr")
set(_lib "${_usr}/lib/x86_64-linux-gnu")
if(NOT EXISTS "${_lib}/cmake/spdlog/spdlogConfig.cmake")
  message(FATAL_ERROR "HCX_BUNDLE=${HCX_BUNDLE}: not a bundle of make gpu-bundle (no spdlog in it)")
endif()
set(CLI11_DIR "${_usr}/share/cmake/CLI11")
set(nlohmann_json_DIR "${_usr}/share/cmake/nlohmann_json")
foreach(pkg SQLiteCpp spdlog fmt GTest)
  set(${pkg}_DIR "${_lib}/cmake/${pkg}")
endforeach()
set(SQLite3_INCLUDE_DIR "${_usr}/include" CACHE PATH "" FORCE)  # FindSQLite3, for SQLiteCpp
set(SQLite3_LIBRARY "${_lib}/libsqlite3.so" CACHE FILEPATH "" FORCE)
set(HCX_EXTRA_RPATH "${_lib}")
