# drivec dot: golden Graphviz drawings (tests/dot/NAME.dot), each also
# rendered with Graphviz's `dot -Tsvg` (skipped with a message when it is
# not installed) and through `drivec dot --svg`. Included from
# tests/CMakeLists.txt, which defines T, DRIVEC and GOLDEN.
function(dot_test name)
  add_test(NAME dot_${name} WORKING_DIRECTORY ${T}
           COMMAND ${T}/dot/check.sh dot/${name}.dot ${DRIVEC} ${ARGN})
endfunction()

# The bundled example: inputs, params, lets, outputs, pre() edges.
dot_test(social_attention ../examples/social_attention/social_attention.drive)
# A predictor, a gate, a reflex, attention, a state, instances (named and
# inline), reward streams and their total, learned paths.
dot_test(learning dot/learning.drive)
# A stdlib circuit drawn through an import, with an instance inside.
dot_test(social_reward dot/social_reward.drive --circuit social_reward)
# Usage and errors: exit status and message (goldens dot/NAME.stderr).
function(dot_error name rc)
  add_test(NAME dot_${name} WORKING_DIRECTORY ${T}
           COMMAND ${GOLDEN} dot/${name}.stderr ${rc} stderr ${DRIVEC} dot ${ARGN})
endfunction()
dot_error(no_file 2)
dot_error(unknown_option 2 dot/learning.drive --fast)
dot_error(no_such_circuit 1 dot/learning.drive --circuit nope)
dot_error(several_circuits 1 ../stdlib/std/core.drive)

# The diagrams of the stdlib pages are regenerated and must equal the
# committed ones (scripts/diagrams.sh redraws them); skipped without Graphviz.
add_test(NAME diagrams_up_to_date WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
         COMMAND ${PROJECT_SOURCE_DIR}/scripts/diagrams.sh --check ${DRIVEC})
set_tests_properties(diagrams_up_to_date PROPERTIES SKIP_RETURN_CODE 77)
