# Command-line behaviour: exit codes (0 ok, 1 errors in program or data,
# 2 bad usage) and the messages for bad data. Goldens live in cli/.
function(cli_test name rc stream)
  add_test(NAME cli_${name} WORKING_DIRECTORY ${T}
           COMMAND ${GOLDEN} cli/${name}.${stream} ${rc} ${stream} ${DRIVEC} ${ARGN})
endfunction()

cli_test(no_command          2 stderr)
cli_test(unknown_command     2 stderr frobnicate)
cli_test(unknown_option      2 stderr run cli/two.drive --fast)
cli_test(missing_value       2 stderr run cli/two.drive --in)
cli_test(bad_ticks           2 stderr run cli/two.drive --ticks ten)
cli_test(bad_backend         2 stderr run cli/two.drive --backend gpu --ticks 1)
cli_test(run_no_file         2 stderr run)
cli_test(run_needs_inputs    2 stderr run cli/startle.drive)
cli_test(in_and_random       2 stderr run cli/startle.drive --in cli/good.csv --random-inputs 1 --ticks 3)
cli_test(no_such_file        1 stderr check cli/does_not_exist.drive)
cli_test(several_circuits    1 stderr run cli/two.drive --ticks 2)
cli_test(no_such_circuit     1 stderr run cli/two.drive --circuit fist --ticks 2)
cli_test(missing_columns     1 stderr run cli/startle.drive --in cli/missing_columns.csv)
cli_test(malformed_row       1 stderr run cli/startle.drive --in cli/malformed_row.csv)
cli_test(not_a_number        1 stderr run cli/startle.drive --in cli/not_a_number.csv)
cli_test(bad_bool            1 stderr run cli/startle.drive --in cli/bad_bool.csv)
cli_test(empty_csv           1 stderr run cli/startle.drive --in cli/empty.csv)
cli_test(unknown_column      0 stderr run cli/startle.drive --in cli/unknown_column.csv --out -)
cli_test(table               0 stdout run cli/startle.drive --in cli/good.csv)
cli_test(csv_out             0 stdout run cli/startle.drive --in cli/good.csv --out - --ticks 8)
cli_test(no_inputs           0 stdout run cli/two.drive --circuit second --ticks 4 --out -)
cli_test(interp_backend      0 stdout run cli/startle.drive --in cli/good.csv --out - --backend interp)
cli_test(help                0 stdout help)
cli_test(param               0 stdout run cli/startle.drive --in cli/good.csv --out - --param gain=4)
cli_test(param_unknown       1 stderr run cli/startle.drive --in cli/good.csv --param gian=4)
cli_test(param_not_number    1 stderr run cli/startle.drive --in cli/good.csv --param gain=lots)
cli_test(param_malformed     2 stderr run cli/startle.drive --in cli/good.csv --param gain)
cli_test(header_only         1 stderr run cli/startle.drive --in cli/header_only.csv --ticks 3)
cli_test(dump_after_bogus    2 stderr ir cli/two.drive --dump-after bogus)
cli_test(dump_after_O0       2 stderr ir cli/two.drive -O0 --dump-after fold)
cli_test(dump_after_lower    0 stdout ir cli/two.drive -O0 --dump-after lower --circuit second)
cli_test(option_not_for_cmd  2 stderr check cli/two.drive --backend gpu)
cli_test(bom_csv             0 stdout run cli/startle.drive --in cli/bom.csv --out -)

# Ranges, the invalid-input policy, and the module search path.
cli_test(invalid_input       1 stderr run cli/ranged.drive --in cli/out_of_range.csv --out -)
cli_test(invalid_input_out   1 stdout run cli/ranged.drive --in cli/out_of_range.csv --out -)
cli_test(param_range         1 stderr run cli/ranged.drive --in cli/out_of_range.csv --param g=3)
cli_test(include_dir         0 stdout run -I cli/inc2 cli/inc/use_extra.drive --random-inputs 1 --ticks 2 --out -)
cli_test(missing_module      1 stderr check cli/inc/use_extra.drive)

# drivec test: per-scenario lines and totals, failed expectations with their
# measurements, runs with invalid inputs, selection, and usage errors.
cli_test(test_lines          1 stdout test cli/scenarios.drive)
cli_test(test_failures       1 stderr test cli/scenarios.drive)
cli_test(test_verbose        0 stdout test cli/scenarios.drive --scenario doubles -v)
cli_test(test_backend_both   0 stdout test cli/scenarios.drive --scenario doubles --backend both)
cli_test(test_no_scenario    1 stderr test cli/scenarios.drive --scenario nope)
cli_test(test_no_file        2 stderr test)
cli_test(test_broken_file    1 stdout test diag/scenario_errors.drive)
cli_test(test_directory      0 stdout test scenario)
add_test(NAME cli_test_trace WORKING_DIRECTORY ${T}
         COMMAND ${T}/scenario/trace.sh ${DRIVEC})

# drivec build: usage and program errors (building itself is tested in host/).
cli_test(build_no_output     2 stderr build cli/two.drive)
cli_test(build_bad_cpu       2 stderr build cli/two.drive -o two.so --cpu pentium)
cli_test(build_no_circuit    1 stderr build cli/two.drive --circuit fist -o two.so)
cli_test(build_two_files     2 stderr build cli/two.drive cli/startle.drive -o two.so)
add_test(NAME install_and_pkg_config
         COMMAND ${T}/install.sh ${PROJECT_BINARY_DIR} $<IF:$<BOOL:${DRIVE_SANITIZE}>,sanitize,plain>)
cli_test(build_not_regular   1 stderr build cli/two.drive -o /dev/null --no-cache)
add_test(NAME cli_build_awkward_names WORKING_DIRECTORY ${T}
         COMMAND ${DRIVEC} build cli/names.drive -o ${CMAKE_CURRENT_BINARY_DIR}/names.so
                 --header ${CMAKE_CURRENT_BINARY_DIR}/names.h --no-cache)

# Looking inside runs: --trace-signals (inner signals through the probed
# compile), --explain (the total reward by stream, summing exactly to it),
# drivec plot, and their usage errors.
cli_test(trace_signals       0 stdout run cli/rewards3.drive --in cli/good.csv --out - --trace-signals motion,drive,calm,startle.strength,comfort,fright,novelty,reward,gain)
cli_test(trace_instance_signals 0 stdout run run/instances.drive --random-inputs 1 --ticks 3 --out - --trace-signals fast,c1.count,c2.n,scaled)
cli_test(trace_default_rewards 0 stdout run cli/rewards3.drive --in cli/good.csv --out -)
# --trace: every input, then the outputs with every reward stream and the total.
cli_test(trace_file          0 stdout run cli/rewards3.drive --in cli/good.csv --trace -)
cli_test(trace_file_signals  0 stdout run cli/rewards3.drive --in cli/good.csv --trace - --trace-signals drive,reward)
cli_test(trace_and_out       2 stderr run cli/rewards3.drive --in cli/good.csv --trace - --out x.csv)
cli_test(trace_signals_unknown 1 stderr run cli/rewards3.drive --in cli/good.csv --out - --trace-signals motoin,drive,strtle.strength)
cli_test(trace_signals_empty 1 stderr run cli/rewards3.drive --in cli/good.csv --out - --trace-signals ,)
cli_test(explain             0 stdout run cli/rewards3.drive --in cli/good.csv --out /dev/null --explain 2)
cli_test(explain_time        0 stdout run cli/rewards3.drive --in cli/good.csv --out /dev/null --explain 30ms)
cli_test(explain_bad_tick    2 stderr run cli/rewards3.drive --in cli/good.csv --explain soon)
cli_test(explain_past_end    1 stderr run cli/rewards3.drive --in cli/good.csv --out /dev/null --explain 9)
cli_test(explain_no_rewards  1 stderr run cli/startle.drive --in cli/good.csv --out /dev/null --explain 1)
cli_test(explain_not_for_test 2 stderr test cli/scenarios.drive --explain 3)
cli_test(plot_no_output      2 stderr plot cli/good.csv)
cli_test(plot_two_files      2 stderr plot cli/good.csv cli/bom.csv -o x.svg)
cli_test(plot_no_file        1 stderr plot cli/does_not_exist.csv -o x.svg)
cli_test(plot_bad_csv        1 stderr plot cli/malformed_row.csv -o x.svg)
cli_test(plot_unknown_signal 1 stderr plot cli/good.csv -o x.svg --signals motoin)
cli_test(plot_rewards_and_circuit 2 stderr plot cli/good.csv -o x.svg --rewards a --circuit cli/rewards3.drive)
add_test(NAME cli_explain_sum WORKING_DIRECTORY ${T} COMMAND ${T}/cli/explain_sum.sh ${DRIVEC})
add_test(NAME cli_plot WORKING_DIRECTORY ${T} COMMAND ${T}/cli/plot.sh ${DRIVEC})
# A --trace holds the inputs, then exactly the outputs --out writes.
add_test(NAME cli_trace_matches_out WORKING_DIRECTORY ${T}
         COMMAND ${T}/cli/trace_matches_out.sh ${DRIVEC})
