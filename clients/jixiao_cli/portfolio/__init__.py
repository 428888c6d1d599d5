"""The portfolio summary (绩效评价汇总) of a bureau's batch: what its projects' scores say
together, every figure traceable to the rows of `jixiao batch` output it comes from."""
