/* wasi_stdin.c: test guest that reads all of stdin, writes it back upper-cased and reports the
 * byte count on stderr ("read N bytes"). */
#include <ctype.h>
#include <stdio.h>

int main(void)
{
    long n = 0;
    int c;
    while ((c = getchar()) != EOF) {
        putchar(toupper(c));
        n++;
    }
    fprintf(stderr, "read %ld bytes\n", n);
    return 0;
}
