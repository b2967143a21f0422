# Generates a C file holding files of the source tree as byte arrays, so the
# binary carries its rule pack (rules/**/*.yml) and the pack's own tests
# (tests/rules/*.jsonl).
#   cmake -DOUT=file.c -DROOT=dir -DPATTERN=*.yml -DPREFIX=rules/ -DSYMBOL=name -P embed_rules.cmake
file(GLOB_RECURSE files RELATIVE "${ROOT}" "${ROOT}/${PATTERN}")
list(SORT files)
set(body "/* Generated from ${PREFIX} by tools/embed_rules.cmake. */\n#include <stddef.h>\n\n")
set(table "")
set(i 0)
foreach(f IN LISTS files)
  file(READ "${ROOT}/${f}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(APPEND body "static const unsigned char r${i}[] = {${bytes}0};\n")
  string(APPEND table "    {\"${PREFIX}${f}\", (const char *)r${i}, ${len}},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "\nconst struct ig_embedded_file {\n    const char *name;\n    const char *text;\n    size_t len;\n} ${SYMBOL}[] = {\n${table}    {NULL, NULL, 0}};\n")
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
