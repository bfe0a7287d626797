# Writes OUT, a C++ file holding each file of ASSETS (a ;-list, paths under BASE) as bytes, and a
# table of them by name, so that the dashboard is served from the binary (no files to install,
# nothing fetched from a CDN). Run by the build: cmake -DOUT=… -DBASE=… -DASSETS=a,b,… -P this file.
file(WRITE ${OUT} "// Generated from src/dashboard/ by cmake/embed_assets.cmake: do not edit.\n"
  "#include \"http/dashboard_assets.h\"\n\nnamespace raptor::http {\nnamespace {\n")
set(ROWS "")
set(I 0)
string(REPLACE "," ";" ASSETS "${ASSETS}")
foreach(ASSET ${ASSETS})
  file(READ ${BASE}/${ASSET} HEX HEX)
  string(LENGTH "${HEX}" HEX_LENGTH)
  math(EXPR SIZE "${HEX_LENGTH} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," BYTES "${HEX}")
  file(APPEND ${OUT} "const char kAsset${I}[] = {${BYTES}};\n")
  string(APPEND ROWS "    {\"${ASSET}\", std::string_view(kAsset${I}, ${SIZE})},\n")
  math(EXPR I "${I} + 1")
endforeach()
file(APPEND ${OUT} "}  // namespace\n\nconst std::vector<DashboardAsset>& dashboard_assets() {\n"
  "  static const std::vector<DashboardAsset> kAssets{\n${ROWS}  };\n  return kAssets;\n}\n\n}  // namespace raptor::http\n")
