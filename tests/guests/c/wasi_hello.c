/* wasi_hello.c: test guest printing its arguments and environment, one per line, to stdout,
 * and a marker line to stderr. Used by tests/unit/wasi/test_wasi.c. */
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv)
{
    printf("hello from wasi\n");
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    for (char **e = environ; e && *e; e++)
        printf("env %s\n", *e);
    fprintf(stderr, "to stderr\n");
    return 0;
}
