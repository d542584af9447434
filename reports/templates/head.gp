# mxreport: terminal and style shared by every chart.
# TERM is "pngcairo ..." (or "png ...") or "svg ...", OUT the file.
set terminal @TERM@
set output '@OUT@'
set termoption noenhanced
set encoding utf8
set datafile missing 'NaN'
set grid xtics ytics lc rgb '#dddddd' lw 1 dt 1
set border 3 lc rgb '#444444'
set tics nomirror
set key outside right top vertical Left reverse spacing 1.1 samplen 2
