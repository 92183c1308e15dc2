# Times R's surveillance package on the series `varde-bench signals --write DIR` wrote, each method on the newest
# week of each series, as Varde does. Usage: Rscript scripts/bench-signals.R DIR/series.csv [N]
suppressPackageStartupMessages(library(surveillance))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
n <- if (length(args) > 1) as.integer(args[2]) else length(unique(d$series))
ids <- head(sort(unique(d$series)), n)
series <- split(d$observed, d$series)[as.character(ids)]
last <- length(series[[1]])
time_per_series <- function(f) {
  t <- system.time(for (y in series) suppressWarnings(f(y)))[["elapsed"]]
  t / length(series) * 1e6
}
dp <- function(y) create.disProg(week = seq_along(y), observed = y, state = rep(0, length(y)), freq = 52)
st <- function(y) sts(observed = y, frequency = 52, start = c(2016, 1))
r <- c(
  ears_c1 = time_per_series(function(y) earsC(st(y), control = list(range = last, method = "C1"))),
  ears_c2 = time_per_series(function(y) earsC(st(y), control = list(range = last, method = "C2"))),
  # R's earsC fails on a one-week range for C3, so it evaluates the last three weeks (its cost is the call overhead).
  ears_c3 = time_per_series(function(y) earsC(st(y), control = list(range = (last - 2):last, method = "C3"))),
  cusum = time_per_series(function(y) algo.cusum(dp(y), control = list(range = last, k = 1.04, h = 2.26, trans = "standard"))),
  farrington = time_per_series(function(y) algo.farrington(dp(y), control = list(range = last, b = 5, w = 3))),
  flexible_noufaily = time_per_series(function(y) farringtonFlexible(st(y), control = list(range = last, b = 5, w = 3,
    noPeriods = 10, weightsThreshold = 2.58, pastWeeksNotIncluded = 26, pThresholdTrend = 1, thresholdMethod = "nbPlugin")))
)
cat(sprintf("R surveillance %s, %d series\n", packageVersion("surveillance"), length(series)))
for (m in names(r)) cat(sprintf("  %s: %.1f µs per series (R)\n", m, r[[m]]))
