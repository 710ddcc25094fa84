/* wasi_exit.c: test guest ending in the way argv[1] asks: "return N" returns N from main,
 * "exit N" calls exit(N) (WASI proc_exit), "ok" returns 0 (a normal return from _start). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int code = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 0;
    printf("before exit\n");
    if (argc > 1 && strcmp(argv[1], "exit") == 0) {
        exit(code);
    }
    if (argc > 1 && strcmp(argv[1], "return") == 0)
        return code;
    return 0;
}
