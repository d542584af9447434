# mxreport: panels one above the other (or in a grid).
set multiplot layout @ROWS@,@COLS@ title "@TITLE@" font ',12'
@PANELS@
unset multiplot
