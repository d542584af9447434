# mxreport: one chart or one panel of a multiplot.  PLOT is the plot
# list built by mxreport, EXTRA extra settings (log scale, yrange, key).
unset logscale
unset arrow
unset label
set autoscale
set key outside right top vertical Left reverse spacing 1.1 samplen 2
set title "@TITLE@"
set xlabel "@XLABEL@"
set ylabel "@YLABEL@"
set yrange [0:*]
set xrange [@XMIN@:@XMAX@]
@EXTRA@
plot @PLOT@
