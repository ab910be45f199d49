# bench/compare chart: backlog drain throughput and CPU cost per GB, one bar group per system.
# Called as: gnuplot -e "datafile='chart.dat'; outfile='chart.svg'; charttitle='...'" chart.gp
# (an outfile ending in .png gives a PNG instead).
# chart.dat columns: system, MB/s, shipper CPU-s per GB, collector CPU-s per GB.
if (strstrt(outfile, ".png") > 0) {
  set terminal pngcairo size 1000,460 enhanced font "sans,10" background "white"
} else {
  set terminal svg size 1000,460 dynamic enhanced font "sans,12" background "white"
}
set output outfile
set multiplot layout 1,2 title charttitle
set style data histograms
set style fill solid 0.85 border -1
set boxwidth 0.8
set grid ytics
set yrange [0:*]
set xtics nomirror
set key top left

set title "Backlog drain throughput (higher is better)"
set ylabel "MB/s"
set style histogram clustered gap 1
unset key
plot datafile using 2:xtic(1) title "MB/s" linecolor rgb "#3b75af", \
     '' using 0:2:(sprintf("%.0f", $2)) with labels offset 0,0.7 notitle

set title "CPU per GB shipped (lower is better)"
set ylabel "CPU seconds per GB"
set style histogram rowstacked
set key top left
plot datafile using 3:xtic(1) title "shipper" linecolor rgb "#ef8636", \
     '' using 4 title "collector (Blackbox only)" linecolor rgb "#999999"
unset multiplot
