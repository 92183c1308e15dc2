## Goldens for Farrington 1996 (algo.farrington) on sparse series, as drug checking sees them: a rare substance in
## one fylke. Run: Rscript make_sparse.R OUTDIR. surveillance 1.20.3 on R 4.2.2 (Debian r-base-core, r-cran-surveillance).
suppressPackageStartupMessages(library(surveillance))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) > 0) args[1] else "."
n <- 312
rng <- 260:312
set.seed(20261130)
series <- list(
  ## 1. About 95 % zero weeks: a rare substance, single samples now and then.
  sparse95 = rbinom(n, 1, 0.05),
  ## 2. Every reference week zero; a cluster in the weeks being evaluated.
  zero_reference = c(rep(0, 249), rep(0, 10), rep(c(0, 0, 1, 0, 2, 0, 0, 3, 5, 0, 0, 1, 0), 4), 0),
  ## 3. Nothing at all.
  all_zero = rep(0, n),
  ## 4. Mostly zero, then a new substance arriving: 0, 1, 2, 4, 7 … in the last weeks.
  arrival = c(rbinom(n - 12, 1, 0.02), 0, 1, 0, 2, 1, 4, 3, 7, 6, 9, 12, 15)
)
for (nm in names(series)) {
  y <- series[[nm]]
  stopifnot(length(y) == n)
  dp <- create.disProg(week = seq_len(n), observed = y, state = rep(0, n), freq = 52)
  write.csv(data.frame(t = seq_len(n), observed = y), file.path(out, paste0("sparse_", nm, "_series.csv")), row.names = FALSE)
  ## With R's default limit54 (no alarm under 5 cases in 4 weeks, upper bound 0 there) and without it (limit 0),
  ## which shows the fitted bound in every week.
  for (limit in c(5, 0)) {
    f <- algo.farrington(dp, control = list(range = rng, b = 4, w = 3, alpha = 0.05, reweight = TRUE, trend = TRUE,
                                            powertrans = "2/3", limit54 = c(limit, 4)))
    write.csv(data.frame(t = rng, observed = y[rng], upperbound = f$upperbound, alarm = as.integer(f$alarm),
                         trend = as.integer(f$trend)),
              file.path(out, paste0("sparse_", nm, "_farrington_limit", limit, ".csv")), row.names = FALSE)
  }
}
