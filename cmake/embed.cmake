# embed.cmake — turn a text file into a C string constant.
#   cmake -DIN=file -DOUT=header.h -DNAME=IDENT -P embed.cmake
file(READ ${IN} text)
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "\n" "\\n\"\n\"" text "${text}")
file(WRITE ${OUT} "/* generated from ${IN}; do not edit */\nstatic const char ${NAME}[] =\n\"${text}\";\n")
