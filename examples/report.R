#!/usr/bin/env Rscript
# report.R: train -> predict -> report on a cohort from R, as an analyst's script does.
#
# Runs the gfuse tool with system2, checks every exit code, reads the CSV outputs with
# read.csv (base R only) and checks them against the metrics JSON:
#
#     Rscript examples/report.R [COHORT [OUTDIR]]   (defaults: data/example, a temporary folder)
#
# The environment variable GFUSE names the tool (default: gfuse on the PATH). Writes
# OUTDIR/model.gfm, train_log.csv, predictions.csv, attention.csv, metrics.json and
# report.html; quits with status 0 when every step succeeded and the outputs agree.

args <- commandArgs(trailingOnly = TRUE)
gfuse <- Sys.getenv("GFUSE", "gfuse")
cohort <- if (length(args) >= 1) args[1] else "data/example"
out <- if (length(args) >= 2) args[2] else tempfile("gfuse_report_R_")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
path <- function(name) file.path(out, name)

# Runs gfuse with the arguments; stops unless the exit code is the one expected.
run <- function(..., expect = 0) {
  a <- c(...)
  err <- tempfile()
  status <- system2(gfuse, shQuote(a), stdout = FALSE, stderr = err)
  if (status != expect) {
    message(paste(readLines(err, warn = FALSE), collapse = "\n"))
    stop(sprintf("gfuse %s exited %d, expected %d", a[1], status, expect))
  }
  invisible(status)
}

run("train", "--cohort", cohort, "--model", path("model.gfm"), "--log", path("train_log.csv"),
    "--epochs", "40", "--ensemble", "2", "--seed", "7", "--quiet")
run("predict", "--model", path("model.gfm"), "--cohort", cohort, "--out", path("predictions.csv"),
    "--attention", path("attention.csv"), "--metrics", path("metrics.json"), "--quiet")
run("report", "--model", path("model.gfm"), "--cohort", cohort, "--log", path("train_log.csv"),
    "--out", path("report.html"), "--quiet")
run("report", "--model", path("model.gfm"), "--cohort", cohort, expect = 2)  # no --out: usage

read <- function(file) read.csv(file, stringsAsFactors = FALSE, check.names = FALSE,
                                colClasses = c(id = "character"), na.strings = c("", "NA"))
pred <- read(path("predictions.csv"))
att <- read(path("attention.csv"))
labels <- read(file.path(cohort, "labels.csv"))
problems <- character(0)
if (nrow(pred) != nrow(labels))
  problems <- c(problems, sprintf("%d predictions for %d samples", nrow(pred), nrow(labels)))
prob <- pred[, startsWith(names(pred), "p_"), drop = FALSE]
if (any(abs(rowSums(prob) - 1) > 1e-5)) problems <- c(problems, "probabilities do not sum to 1")
if (any(abs(rowSums(att[, names(att) != "id", drop = FALSE]) - 1) > 1e-4))
  problems <- c(problems, "fusion weights do not sum to 1")
log <- read.csv(path("train_log.csv"))
if (!all(c("member", "epoch", "train_loss", "val_loss") %in% names(log)))
  problems <- c(problems, "the training log lacks its columns")

split_file <- file.path(cohort, "split.csv")
if (file.exists(split_file)) {
  split <- read(split_file)
  m <- merge(merge(pred, labels, by = "id"), split, by = "id")
  test <- m[m$split == "test" & !is.na(m$label), ]
  acc <- mean(test$predicted == test$label)
  # metrics.json: the first "accuracy" after the "test" key (base R has no JSON reader)
  json <- paste(readLines(path("metrics.json"), warn = FALSE), collapse = "\n")
  after <- substring(json, regexpr("\"test\"", json, fixed = TRUE))
  want <- as.numeric(sub("(?s)^.*?\"accuracy\": *([-0-9.eE+]+).*$", "\\1", after, perl = TRUE))
  if (is.na(want) || abs(acc - want) > 1e-12)
    problems <- c(problems, sprintf("test accuracy %.6f here, %s in metrics.json", acc, want))
  cat(sprintf("test samples %d: accuracy %.3f\n", nrow(test), acc))
}
page <- readLines(path("report.html"), warn = FALSE, encoding = "UTF-8")
charts <- sum(lengths(regmatches(page, gregexpr("<svg", page, fixed = TRUE))))
if (page[1] != "<!DOCTYPE html>" || charts < 8)
  problems <- c(problems, "report.html is not the page expected")
for (p in problems) message("report.R: ", p)
cat(sprintf("report.R: %d predictions, %d charts in %s\n", nrow(pred), charts,
            path("report.html")))
quit(status = if (length(problems)) 1 else 0)
