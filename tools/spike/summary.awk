# summary.awk: per-function figures from `spike-orc -f -v` output (CPU ms): count, mean and
# median of the clang front end, ORC in-process O1/O2 (parse + passes + LLJIT codegen), ORC end to
# end (front end + in-process), cc -O2, clang -O2, cc -fsyntax-only, cc -O0; the largest function.
#   awk -f tools/spike/summary.awk orc.log
function med(a, n,    i, j, t) {
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
/^  [^ ]+ fwe_nf_/ && NF == 14 {
    n++
    b[n] = $3; fe[n] = $4; o1[n] = $5 + $6 + $7; o2[n] = $8 + $9 + $10
    e2[n] = fe[n] + o2[n]; cc[n] = $11; cl[n] = $12; syn[n] = $13; c0[n] = $14
    sb += b[n]; sfe += fe[n]; so1 += o1[n]; so2 += o2[n]; se2 += e2[n]; scc += cc[n]; scl += cl[n]; ssyn += syn[n]; sc0 += c0[n]
    if ($3 + 0 > maxb) { maxb = $3; maxl = sprintf("largest: %d bytes of C: ORC in-process O2 %.0f ms, end to end %.0f ms, cc -O2 %.0f ms, clang -O2 %.0f ms", $3, o2[n], e2[n], cc[n], cl[n]) }
}
END {
    if (!n) { print "no per-function lines"; exit 1 }
    printf "%d functions, C bytes mean %.0f median %.0f\n", n, sb / n, med(b, n)
    printf "%-34s %9s %9s\n", "CPU ms per function", "mean", "median"
    printf "%-34s %9.1f %9.1f\n", "clang-14 front end (process)", sfe / n, med(fe, n)
    printf "%-34s %9.1f %9.1f\n", "ORC in-process O1", so1 / n, med(o1, n)
    printf "%-34s %9.1f %9.1f\n", "ORC in-process O2", so2 / n, med(o2, n)
    printf "%-34s %9.1f %9.1f\n", "ORC O2 end to end (front end + ^)", se2 / n, med(e2, n)
    printf "%-34s %9.1f %9.1f\n", "cc -O2 -shared (process)", scc / n, med(cc, n)
    printf "%-34s %9.1f %9.1f\n", "clang-14 -O2 -shared (process)", scl / n, med(cl, n)
    printf "%-34s %9.1f %9.1f\n", "cc -fsyntax-only (process)", ssyn / n, med(syn, n)
    printf "%-34s %9.1f %9.1f\n", "cc -O0 -shared (process)", sc0 / n, med(c0, n)
    print maxl
}
