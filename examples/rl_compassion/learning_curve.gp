# learning_curve.gp — draws learning_curve.svg from learning_curve.dat (both
# written by `train.py --plot`, which passes their paths as `data` and `out`
# and the encounters per episode as `enc`). One panel per setting of the
# friend / enemy balance with how often the agents help, ignore and harm per
# episode, then the reward the compassion / spite circuit gave per
# encounter. Same look as the scenario plots that drivec test draws.
if (!exists("data")) data = "learning_curve.dat"
if (!exists("out")) out = "learning_curve.svg"
if (!exists("enc")) enc = 20

set terminal svg size 800,920 font 'sans,11' background '#ffffff'
set output out
set encoding utf8
set key outside right top
set grid
set lmargin 10
set rmargin 28

# Columns: 1 episode; 2-4 friend help/ignore/harm; 5-7 enemy; 8-10
# stranger; 11-13 mean reward per encounter of friend, enemy, stranger.
HELP = '#1a9641'; IGNORE = '#7f7f7f'; HARM = '#d7191c'
set multiplot layout 4,1 title "Q-learning with the compassion / spite circuit as the only reward"

set yrange [0:1]
unset xlabel
do for [c = 0:2] {
    name = word("friend enemy stranger", c + 1)
    balance = word("+1 -1 0", c + 1)
    set ylabel sprintf("%s (balance %s)\nfraction of actions", name, balance)
    plot data using 1:(column(2 + 3 * c)) with lines lw 2 lc rgb HELP title 'help', \
         data using 1:(column(3 + 3 * c)) with lines lw 1 lc rgb IGNORE title 'ignore', \
         data using 1:(column(4 + 3 * c)) with lines lw 2 lc rgb HARM title 'harm'
}

set ylabel "reward per encounter\n(reward·s)"
set autoscale y
set xlabel sprintf("episode (%d encounters each)", enc)
plot data using 1:11 with lines lw 2 lc rgb HELP title 'friend', \
     data using 1:12 with lines lw 2 lc rgb HARM title 'enemy', \
     data using 1:13 with lines lw 1 lc rgb IGNORE title 'stranger'

unset multiplot
