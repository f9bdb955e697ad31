"""The RTL mutant set: small, realistic source changes applied to COPIES of rtl/ under build/.

Production RTL carries no bug hooks. Each mutant here is data: the file it changes, one or more
search/replace edits on its text (each search string must occur exactly once, so an edit
elsewhere in the file cannot silently move it), why it is a plausible bug, and the pytest
selection (under verif/) that must fail on it. Three users:

* the "tests can fail" checks of the testbenches (``sources(name, *modules)`` in place of
  ``simrun.rtl``), which show that a check catches the bug it exists for;
* the formal expect-fail tasks (formal/*.sby read ``build/mutants/<name>/<file>``;
  ``scripts/formal.py`` writes every copy first);
* the RTL mutation score (``scripts/mutate_rtl.py``, ``make mutate-rtl``): every mutant's
  pytest selection is run with ``ICESPIKE_MUTANT=<name>``, which makes ``simrun.rtl`` return the
  mutated copies; a mutant is killed when the selection fails.

Mutants keep the widths of the original, so both simulators build them without new warnings: a
mutant is killed by a failing check, never by a compile error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RTL_DIR = ROOT / "rtl"
MUTANT_DIR = ROOT / "build" / "mutants"
ENV = "ICESPIKE_MUTANT"  # name of the mutant simrun.rtl() serves instead of rtl/ (unset: none)


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str  # file under rtl/
    edits: tuple[tuple[str, str], ...]  # (search, replace), each search found exactly once
    why: str
    tests: tuple[str, ...]  # pytest arguments (from the repository root) that must fail on it


def _core(module: str) -> tuple[str, ...]:
    # the fast Icarus cases of the module's testbench, without its own "can fail" checks
    return (f"verif/test_{module}.py", "-m", "not slow", "-k", "icarus and not catches")


# the small engine sets: one group (6 hidden), two groups with biases, seven with a padded last group
_ENGINE = (
    "verif/test_snn_engine.py",
    "-m",
    "not slow",
    "-k",
    "icarus and (6hid or ternary-bias or ternary-pad) and not catches and not case",
)
_ENGINE_STALL = ("verif/test_snn_engine.py", "-k", "stall", "-m", "not slow")
_ENGINE_X = ("verif/test_snn_engine.py", "-k", "x_reset", "-m", "not slow")
_LINK = ("verif/test_host_link.py", "-m", "not slow", "-k", "icarus and not bad")  # host link in its board
_LOADER = ("verif/test_net_loader.py", "-m", "not slow", "-k", "icarus and not catches")

MUTANT_LIST: tuple[Mutant, ...] = (
    Mutant(
        "ternary_addsub_carry",
        "ternary_addsub.v",
        (("+ {{(W-1){1'b0}}, neg}", ""),),
        "subtract without its +1 (ones' instead of two's complement)",
        _core("ternary_addsub"),
    ),
    Mutant(
        "binary_addsub_carry",
        "binary_addsub.v",
        (("+ {{(W-1){1'b0}}, code}", ""),),
        "subtract without its +1 (ones' instead of two's complement)",
        _core("binary_addsub"),
    ),
    Mutant(
        "ternary_acc_sat_wrap",
        "ternary_acc.v",
        (("assign acc_d = in_range ? sum", "assign acc_d = 1'b1 ? sum"),),
        "the accumulator wraps instead of saturating",
        _core("ternary_acc"),
    ),
    Mutant(
        "ternary_acc_no_clear",
        "ternary_acc.v",
        (("acc_q <= s_last ? {ACC_W{1'b0}} : acc_d;", "acc_q <= acc_d;"),),
        "the accumulator is not cleared after a packet's last beat",
        _core("ternary_acc"),
    ),
    Mutant(
        "ternary_acc_ready",
        "ternary_acc.v",
        (("assign s_ready = ~m_valid_q | m_ready;", "assign s_ready = 1'b1;"),),
        "beats accepted while a result waits: a waiting result is overwritten",
        _core("ternary_acc"),
    ),
    Mutant(
        "ternary_acc_valid_drop",
        "ternary_acc.v",
        (("if (m_ready) m_valid_q <= 1'b0;", "m_valid_q <= 1'b0;"),),
        "m_valid falls after one cycle without m_ready: results lost under back-pressure",
        _core("ternary_acc"),
    ),
    Mutant(
        "ternary_acc_valid_any_beat",
        "ternary_acc.v",
        (("if (s_last) m_valid_q <= 1'b1;", "m_valid_q <= 1'b1;"),),
        "m_valid rises after every beat, not only after a packet's last",
        _core("ternary_acc"),
    ),
    Mutant(
        "ternary_acc_result_no_last",
        "ternary_acc.v",
        (("if (fire & s_last) m_acc_q <= acc_d;", "if (fire & s_last) m_acc_q <= acc_q;"),),
        "the result misses the packet's last beat",
        _core("ternary_acc"),
    ),
    Mutant(
        "ternary_acc_reset_valid",
        "ternary_acc.v",
        (("if (rst) begin\n            m_valid_q <= 1'b0;\n", "if (rst) begin\n"),),
        "reset does not clear m_valid: a result at power-up",
        _core("ternary_acc"),
    ),
    Mutant(
        "mac_round_floor",
        "mac.v",
        (("assign r_carry = p[SHIFT-1];", "assign r_carry = 1'b0;"),),
        "floor instead of rounding half up",
        _core("mac"),
    ),
    Mutant(
        "mac_sat_wrap",
        "mac.v",
        (("assign acc_d = in_range ? sum", "assign acc_d = 1'b1 ? sum"),),
        "the accumulator wraps instead of saturating",
        _core("mac"),
    ),
    Mutant(
        "mac_overwrite",
        "mac.v",
        (("wire p_ready = ~p_last_q | ~m_valid_q | m_ready;", "wire p_ready = 1'b1;"),),
        "a packet's last product moves on while the previous result waits: result overwritten",
        _core("mac"),
    ),
    Mutant(
        "mac_product_ce",
        "mac.v",
        ((".ce (fire),", ".ce (s_valid),"),),
        "the multiplier loads on s_valid, not on an accepted beat: a waiting product is overwritten",
        _core("mac"),
    ),
    Mutant(
        "mac_last_flag",
        "mac.v",
        (("if (fire) p_last_q <= s_last;", "if (s_valid) p_last_q <= s_last;"),),
        "the last flag loads on s_valid, not on an accepted beat: a waiting product's flag changes",
        _core("mac"),
    ),
    Mutant(
        "mac_result_no_last",
        "mac.v",
        (("if (p_fire & p_last_q) m_acc_q <= acc_d;", "if (p_fire & p_last_q) m_acc_q <= acc_q;"),),
        "the result misses the packet's last product",
        _core("mac"),
    ),
    Mutant(
        "mac_valid_drop",
        "mac.v",
        (("if (m_ready) m_valid_q <= 1'b0;", "m_valid_q <= 1'b0;"),),
        "m_valid falls after one cycle without m_ready: results lost under back-pressure",
        _core("mac"),
    ),
    Mutant(
        "mac_valid_any_product",
        "mac.v",
        (("if (p_last_q) m_valid_q <= 1'b1;", "m_valid_q <= 1'b1;"),),
        "m_valid rises after every product, not only after a packet's last",
        _core("mac"),
    ),
    Mutant(
        "mac_reset_product",
        "mac.v",
        (
            (
                "if (rst) begin\n            p_valid_q <= 1'b0;",
                "if (1'b0) begin\n            p_valid_q <= 1'b0;",
            ),
        ),
        "reset does not empty the product stage: a product from before the reset is accumulated",
        _core("mac"),
    ),
    Mutant(
        "lif_update_sat_wrap",
        "lif_update.v",
        (("assign v2 = in_range ?", "assign v2 = 1'b1 ?"),),
        "the membrane wraps instead of saturating",
        _core("lif_update"),
    ),
    Mutant(
        "lif_update_fire_gt",
        "lif_update.v",
        (("assign spike = ~diff[MEM_W];", "assign spike = ~diff[MEM_W] & (|diff);"),),
        "fires on v > threshold instead of v >= threshold",
        _core("lif_update"),
    ),
    Mutant(
        "lif_update_leak_logical",
        "lif_update.v",
        (("assign v1 = v - (v >>> LEAK_SHIFT);", "assign v1 = v - (v >> LEAK_SHIFT);"),),
        "logical instead of arithmetic shift in the leak (wrong for negative membranes)",
        _core("lif_update"),
    ),
    Mutant(
        "lif_pipe_sat_wrap",
        "lif_pipe.v",
        (("assign v_next = ~in_range ? sat_v", "assign v_next = 1'b0 ? sat_v"),),
        "the out-of-range case is dropped: the membrane wraps",
        _core("lif_pipe"),
    ),
    Mutant(
        "lif_pipe_top",
        "lif_pipe.v",
        (("top_q  <= vmax - threshold;", "top_q  <= vmax;"),),
        "positive saturation forgets the subtract reset",
        _core("lif_pipe"),
    ),
    Mutant(
        "lif_pipe_sat_no_spike",
        "lif_pipe.v",
        (
            (" : ~neg;", " : 1'b0;"),
        ),  # the saturated branch of the spike (unique before and after the split LIF)
        "a membrane saturated high does not fire",
        _core("lif_pipe"),
    ),
    Mutant(
        "lif_pipe_leak_logical",
        "lif_pipe.v",
        (("assign v1 = v - (v >>> LEAK_SHIFT);", "assign v1 = v - (v >> LEAK_SHIFT);"),),
        "logical instead of arithmetic shift in the leak (wrong for negative membranes)",
        _core("lif_pipe"),
    ),
    # ---- the engine's modules (snn_event_fifo, snn_accum, snn_lif_stage, snn_output) and its control
    Mutant(
        "engine_ring_no_clear",
        "snn_accum.v",
        (("if (rst | load) acc_q <= {ACC_W{1'b0}};", "if (rst) acc_q <= {ACC_W{1'b0}};"),),
        "the accumulators keep the previous group's currents (not cleared at the hand-over)",
        _ENGINE,
    ),
    Mutant(
        "accum_done_early",
        "snn_accum.v",
        (("else     done_q <= b_last_q;", "else     done_q <= a_last_q;"),),
        "done one cycle early: the hold registers take the currents without the last event",
        _core("snn_accum"),
    ),
    Mutant(
        "engine_ring_reset",
        "snn_accum.v",
        (("if (rst | load) acc_q <= {ACC_W{1'b0}};", "if (load) acc_q <= {ACC_W{1'b0}};"),),
        "reset does not clear the accumulators (power-up contents leak into the first image)",
        _ENGINE_X,
    ),
    Mutant(
        "engine_tail_cycles",
        "snn_engine.v",
        (("cnt_q   <= 2'd2;", "cnt_q   <= 2'd3;"),),
        "one idle cycle more in the LIF tail (cycle model broken)",
        _ENGINE,
    ),
    Mutant(
        "engine_release_early",
        "snn_engine.v",
        ((".release_pass(acc_on_q & g_last_q)", ".release_pass(acc_on_q)"),),
        "the FIFO frees the image's entries in the first group's pass: later groups replay the next image",
        _ENGINE,
    ),
    Mutant(
        "engine_out_overwrite",
        "snn_output.v",
        (("A_OUT: if (out_free) begin", "A_OUT: begin"),),
        "the next result overwrites one that m_ready has not taken",
        _ENGINE_STALL,
    ),
    Mutant(
        "engine_argmax_tie",
        "snn_output.v",
        (
            (
                "lo_gt_q <= cand_q[LO_W-1:0] > best_q[LO_W-1:0];",
                "lo_gt_q <= cand_q[LO_W-1:0] >= best_q[LO_W-1:0];",
            ),
        ),
        "argmax ties go to the highest index instead of the lowest",
        _core("snn_output"),
    ),
    Mutant(
        "engine_fifo_overflow",
        "snn_event_fifo.v",
        (("\n                    | ((cnt_q == CNT_LAST2) & we_q & s_fire & ~free)", ""),),
        "the FIFO's not-full flag falls one write late: a full FIFO accepts one entry more",
        _core("snn_event_fifo"),
    ),
    Mutant(
        "engine_img_count",
        "snn_event_fifo.v",
        (("wire             img_out = free & e_last;", "wire             img_out = free;"),),
        "every released entry counts as a finished image: images start before they are complete",
        _ENGINE,
    ),
    Mutant(
        "fifo_free_every_pass",
        "snn_event_fifo.v",
        (("wire             free    = e_valid & release_pass;", "wire             free    = e_valid;"),),
        "every pass frees the entries it reads: the replayed image is overwritten by the next",
        _core("snn_event_fifo"),
    ),
    Mutant(
        "engine_out_valid_drop",
        "snn_output.v",
        (("if (out_valid_q & m_ready) out_valid_q <= 1'b0;", "if (out_valid_q) out_valid_q <= 1'b0;"),),
        "m_valid falls after one cycle whether or not m_ready took the result",
        _ENGINE_STALL,
    ),
    Mutant(
        "engine_lif_first_round",
        "snn_engine.v",
        (("lif_run_q  <= nlif;", "lif_run_q  <= 1'b1;"),),
        "the LIF steps run in an image's first round too, on hold registers no group has filled",
        _ENGINE,
    ),
    Mutant(
        "engine_busy_readout",
        "snn_engine.v",
        (
            (
                "assign busy = (state_q == S_RUN) | (state_q == S_TAIL) | out_busy;",
                "assign busy = (state_q == S_RUN) | (state_q == S_TAIL);",
            ),
        ),
        "busy drops during the argmax and the output hand-over",
        _ENGINE_STALL,
    ),
    Mutant(
        "engine_deep_extra_scan",
        "snn_engine.v",
        ((" & (lstart | ~(g_last_q & at_last_q));", ";"),),
        "a later layer's last round (LIF steps only) starts a raster scan too: its events add into the cleared accumulators",
        ("verif/test_snn_engine.py", "-m", "not slow", "-k", "icarus and deep-ternary"),
    ),
    Mutant(
        "engine_out_reset",
        "snn_output.v",
        (
            (
                "            out_valid_q <= 1'b0;\n            arg_q       <= {OSEL_W{1'b0}};",
                "            arg_q       <= {OSEL_W{1'b0}};",
            ),
        ),
        "reset does not clear m_valid (a power-up result is offered after reset)",
        _ENGINE_X,
    ),
    Mutant(
        "engine_t_last_late",
        "snn_engine.v",
        (("t_last_q <= (t_q == T_PREV);", "t_last_q <= (t_q == T_PREV + 8'd1);"),),
        "the LIF stage runs one time step too many (off by one in the last-step flag)",
        _ENGINE,
    ),
    Mutant(
        "engine_lif_no_stop",
        "snn_engine.v",
        (
            (
                "                lif_run_q  <= 1'b0;\n                lif_done_q <= 1'b1;",
                "                lif_done_q <= 1'b1;",
            ),
        ),
        "the LIF stage keeps issuing beats after the group's last step",
        _ENGINE,
    ),
    Mutant(
        "engine_tail_early",
        "snn_engine.v",
        (("S_RUN: if (round_end & ~acc_on_q) begin", "S_RUN: if (acc_done_q & ~acc_on_q) begin"),),
        "the last round ends without waiting for the LIF steps (the readout starts before the last spikes)",
        _ENGINE,
    ),
    Mutant(
        "fifo_count_write_release",
        "snn_event_fifo.v",
        (
            (
                "cnt_q     <= cnt_q + {{AW{free & ~we_q}}, free ^ we_q};",
                "cnt_q     <= cnt_q + {{AW{free & ~we_q}}, free | we_q};",
            ),
        ),
        "a write and a release in the same cycle count as a write: the count drifts up",
        _core("snn_event_fifo"),
    ),
    Mutant(
        "fifo_img_flag_high",
        "snn_event_fifo.v",
        (("\n                    | ((img_cnt_q == CNT_ONE) & img_out & ~img_in_q))", ")"),),
        "the image-held flag forgets the image leaving: it stays up one cycle after the last image held is released",
        ("verif/test_snn_event_fifo.py", "-m", "not slow", "-k", "icarus and not catches"),
    ),
    Mutant(
        "engine_deep_fifo_read",
        "snn_engine.v",
        (("rd_q       <= nacc & (start | ~deep_q) & ~lnext;", "rd_q       <= nacc & ~lnext;"),),
        "later hidden layers read the event FIFO too: their release pass frees the next image's entries",
        ("verif/test_snn_engine.py", "-k", "stalls-deep", "-m", "not slow"),
    ),
    Mutant(
        "fifo_ready_from_count",
        "snn_event_fifo.v",
        (("assign s_ready = nf_q;", "assign s_ready = (cnt_q != CNT_FULL);"),),
        "s_ready from the count instead of the not-full flag: a pixel offered as the flag drops "
        "early is taken by the source but not by the FIFO (lost)",
        _core("snn_event_fifo"),
    ),
    Mutant(
        "fifo_ready_sticky",
        "snn_event_fifo.v",
        (("nf_q      <= nf_d;", "nf_q      <= nf_d & nf_q;"),),
        "the not-full flag only falls: once the FIFO has been full it refuses every pixel (input stalls for good)",
        _core("snn_event_fifo"),
    ),
    Mutant(
        "fifo_img_early",
        "snn_event_fifo.v",
        (("img_in_q  <= we_q & wdata_q[ENT_W-1];", "img_in_q  <= we & pix_last_q;"),),
        "an image counts as held when its last pixel is accepted, a cycle before its last entry is written",
        _core("snn_event_fifo"),
    ),
    Mutant(
        "engine_out_no_wait",
        "snn_engine.v",
        (("S_OUT: if (out_done) state_q <= S_IDLE;", "S_OUT: state_q <= S_IDLE;"),),
        "the engine leaves OUT without waiting for the readout: the next image clears the scores under the argmax",
        _ENGINE,
    ),
    Mutant(
        "out_argmax_one_more",
        "snn_output.v",
        (("if (arg_q == O_LAST) last_q <= 1'b1;", "if (arg_q > O_LAST) last_q <= 1'b1;"),),
        "the argmax loop ends one score late: it compares a score index past the last output",
        _core("snn_output"),
    ),
    Mutant(
        "lif_stage_first",
        "snn_lif_stage.v",
        (("v_old = s2_first_q ? {MEM_W{1'b0}} : v_prev;", "v_old = v_prev;"),),
        "the first step starts from the bank's old membrane instead of 0",
        _core("snn_lif_stage"),
    ),
    Mutant(
        "lif_stage_forward",
        "snn_lif_stage.v",
        (("assign v_prev = v_st;", "assign v_prev = v_next[q*MEM_W +: MEM_W];"),),
        "two membranes per lane: the forwarded membrane is taken one cycle early (the other neuron's)",
        _core("snn_lif_stage"),
    ),
    Mutant(
        "lif_stage_split_leak",
        "snn_lif_stage.v",
        (("assign v_st = v4 - (v4 >>> LEAK_SHIFT);", "assign v_st = v4;"),),
        "LIF_SPLIT = 1: the bank keeps the membrane without the next step's leak",
        _core("snn_lif_stage"),
    ),
    Mutant(
        "link_ignores_crc8",
        "host_link.v",
        (("if (~rx_crc_ok_q) begin", "if (1'b0) begin"),),
        "the host link executes a frame whatever its CRC-8",
        _LINK,
    ),
    Mutant(
        "link_ignores_length",
        "host_link.v",
        (
            (
                "C_CLASSIFY: if (~lf_pix_q) status_q <= ST_LENGTH;",
                "C_CLASSIFY: if (1'b0) status_q <= ST_LENGTH;",
            ),
        ),
        "a CLASSIFY of any length is forwarded to the engine and executed",
        _LINK,
    ),
    Mutant(
        "link_accepts_unknown",
        "host_link.v",
        (("default: status_q <= ST_UNKNOWN;", "default: status_q <= ST_OK;"),),
        "an unknown command executes (as the last command of the FSM's case)",
        _LINK,
    ),
    Mutant(
        "link_no_engine_reset",
        "host_link.v",
        (("if (fwd_q == 2'd1) eng_rst_q <= 1'b1;", "if (1'b0) eng_rst_q <= 1'b1;"),),
        "a dropped CLASSIFY leaves its pixels in the engine (they join the next image)",
        _LINK,
    ),
    Mutant(
        "link_no_rewind",
        "host_link.v",
        (("if (fwd_q == 2'd2) ld_rewind <= 1'b1;", "if (1'b0) ld_rewind <= 1'b1;"),),
        "a dropped LOAD frame's bytes stay in the loader (a resent chunk is loaded twice)",
        _LINK,
    ),
    Mutant(
        "link_info_runs_classify",
        "host_link.v",
        (
            (
                "C_INFO: reply(ST_OK, L_INFO);\n                        C_CLASSIFY: m_q <= M_CLS;",
                "C_CLASSIFY: reply(ST_OK, L_INFO);\n                        C_INFO: m_q <= M_CLS;",
            ),
        ),
        "the INFO and CLASSIFY labels of the command case swapped: an INFO waits for a class",
        _LINK,
    ),
    Mutant(
        "link_info_runs_selftest",
        "host_link.v",
        (("C_INFO: reply(ST_OK, L_INFO);\n", ""),),
        "the INFO branch of the command case lost: an INFO falls into the default (SELFTEST) branch",
        _LINK,
    ),
    Mutant(
        "link_hold_kept",
        "host_link.v",
        (("if (hold_take) hv_q <= 1'b0;", "if (1'b0) hv_q <= 1'b0;"),),
        "the payload holding register is not emptied when its byte is taken: the byte is forwarded again",
        _LINK,
    ),
    Mutant(
        "link_begin_length_low_byte",
        "host_link.v",
        (("lf_48_q     <= (len_next == 16'd48);", "lf_48_q     <= (len_next[7:0] == 8'd48);"),),
        "the LOAD_BEGIN length check compares the low byte only: a 304-byte LOAD_BEGIN starts a load",
        _LINK,
    ),
    Mutant(
        "link_drop_reply_length",
        "host_link.v",
        (("reply(st, 16'd0);", "reply(st, len_q);"),),
        "a dropped frame's error reply announces the frame's own length and sends that many bytes",
        _LINK,
    ),
    Mutant(
        "link_timeout_ok",
        "host_link.v",
        (("M_PAY: if (timeout) drop(ST_TIMEOUT);", "M_PAY: if (timeout) drop(ST_OK);"),),
        "a frame cut off in its payload is answered with status OK",
        _LINK,
    ),
    Mutant(
        "loader_reset_valid",
        "net_loader.v",
        (("state_q   <= S_IDLE;\n            net_valid <= 1'b0;", "state_q   <= S_IDLE;"),),
        "reset does not clear net_valid: after power-up the engine runs on whatever the weight memories hold",
        _LOADER,
    ),
    Mutant(
        "loader_we_stuck",
        "net_loader.v",
        (("        w_we  <= 1'b0;\n", ""),),
        "the weight write enable is not a pulse: after the first word every cycle writes again, "
        "also after the check has released the engine",
        _LOADER,
    ),
    Mutant(
        "loader_ignores_payload_crc",
        "net_loader.v",
        (("if (pcrc_eq_q) net_valid <= 1'b1;", "if (1'b1) net_valid <= 1'b1;"),),
        "a payload whose CRC-32 is wrong releases the engine",
        _LOADER,
    ),
    Mutant(
        "loader_ignores_header_crc",
        "net_loader.v",
        (("end else if (~hcrc_eq_q) begin", "end else if (1'b0) begin"),),
        "a header whose CRC-32 is wrong is accepted",
        _LOADER,
    ),
    Mutant(
        "loader_no_hold",
        "net_loader.v",
        (("state_q   <= S_PAY;\n                            net_valid <= 1'b0;", "state_q   <= S_PAY;"),),
        "the engine is not held while a new payload overwrites its weights",
        _LOADER,
    ),
    Mutant(
        "raster_scan_order",
        "snn_raster.v",
        (("for (k = LANES - 1; k >= 0; k = k - 1)", "for (k = 0; k < LANES; k = k + 1)"),),
        "the scan emits the highest set bit of a word first (indices out of order)",
        _core("snn_raster"),
    ),
    Mutant(
        "raster_count_end",
        "snn_raster.v",
        (("w_end_q  <= (c_q == TWO_C);", "w_end_q  <= (c_q == ONE_C);"),),
        "the stored popcount is counted down one bit late: a word's last index ends it too late",
        _core("snn_raster"),
    ),
    Mutant(
        "raster_scan_skip_word",
        "snn_raster.v",
        (
            (
                "wire             re_nxt = work & w_end & more & rd_more_q;",
                "wire             re_nxt = work & w_end & more & rd_more_q & (w_q != {LANES{1'b0}});",
            ),
        ),
        "the next word is read only after a word with spikes (after an empty word the scan "
        "loads a stale word: spikes emitted twice or at the wrong index)",
        _core("snn_raster"),
    ),
)
MUTANTS = {m.name: m for m in MUTANT_LIST}


def mutated_text(m: Mutant) -> str:
    """The text of ``rtl/<m.file>`` with the mutant's edits (each search must occur exactly once)."""
    text = (RTL_DIR / m.file).read_text()
    for old, new in m.edits:
        n = text.count(old)
        if n != 1:
            raise ValueError(f"mutant {m.name}: {old!r} occurs {n} times in rtl/{m.file} (need exactly 1)")
        text = text.replace(old, new)
    return text


def apply(name: str) -> Path:
    """Write ``build/mutants/<name>/``: every rtl/*.v, the mutant's file changed. Returns the directory."""
    if name not in MUTANTS:
        raise KeyError(f"unknown mutant {name!r}; known: {', '.join(MUTANTS)}")
    m = MUTANTS[name]
    d = MUTANT_DIR / name
    d.mkdir(parents=True, exist_ok=True)
    for src in sorted(RTL_DIR.glob("*.v")):
        text = mutated_text(m) if src.name == m.file else src.read_text()
        dst = d / src.name
        if not dst.is_file() or dst.read_text() != text:  # unchanged files keep their time stamp
            tmp = d / f".{src.name}.{os.getpid()}"
            tmp.write_text(text)
            tmp.replace(dst)
    return d


def apply_all() -> list[Path]:
    """Write the copies of every mutant (formal expect-fail tasks read them)."""
    return [apply(m.name) for m in MUTANT_LIST]


def sources(name: str, *modules: str) -> list[Path]:
    """Like ``simrun.rtl(*modules)``, from the copy of mutant ``name``."""
    d = apply(name)
    return [d / (n if n.endswith(".v") else f"{n}.v") for n in modules]


def active() -> str | None:
    """The mutant named by ``ICESPIKE_MUTANT`` (None when unset or empty)."""
    name = os.environ.get(ENV, "").strip()
    if name and name not in MUTANTS:
        raise KeyError(f"{ENV}={name!r} is not a known mutant; known: {', '.join(MUTANTS)}")
    return name or None
