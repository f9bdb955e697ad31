// SB_PLL40_PAD, behavioural stand-in for simulation (Yosys's ice40/cells_sim.v declares the PLL
// as a black box, so it has no behaviour to simulate). It models what icebreaker_top relies
// on, for FEEDBACK_PATH "SIMPLE" (anything else stops the simulation):
//   * PLLOUTGLOBAL = PLLOUTCORE = the reference on PACKAGEPIN times (DIVF + 1) / ((DIVR + 1) *
//     2^DIVQ); the output period is derived from the measured reference period (two rising
//     edges), so it follows whatever the testbench drives; the output is low until then;
//   * LOCK rises LOCK_CYCLES reference cycles after the output starts (default 600, 50 us at
//     12 MHz); RESETB low (sampled at reference edges) stops the output and drops LOCK;
//   * BYPASS = 1 passes the reference through (LOCK low).
// It does not model jitter, the VCO range or the phase between reference and output.
`default_nettype none

module SB_PLL40_PAD #(
    parameter FEEDBACK_PATH                  = "SIMPLE",
    parameter DELAY_ADJUSTMENT_MODE_FEEDBACK = "FIXED",
    parameter DELAY_ADJUSTMENT_MODE_RELATIVE = "FIXED",
    parameter SHIFTREG_DIV_MODE              = 1'b0,
    parameter FDA_FEEDBACK                   = 4'b0000,
    parameter FDA_RELATIVE                   = 4'b0000,
    parameter PLLOUT_SELECT                  = "GENCLK",
    parameter DIVR                           = 4'b0000,
    parameter DIVF                           = 7'b0000000,
    parameter DIVQ                           = 3'b000,
    parameter FILTER_RANGE                   = 3'b000,
    parameter ENABLE_ICEGATE                 = 1'b0,
    parameter TEST_MODE                      = 1'b0,
    parameter EXTERNAL_DIVIDE_FACTOR         = 1,
    parameter LOCK_CYCLES                    = 600    // reference cycles from output start to LOCK
) (
    input  wire       PACKAGEPIN,
    output wire       PLLOUTCORE,
    output wire       PLLOUTGLOBAL,
    input  wire       EXTFEEDBACK,
    input  wire [7:0] DYNAMICDELAY,
    output reg        LOCK,
    input  wire       BYPASS,
    input  wire       RESETB,
    input  wire       LATCHINPUTVALUE,
    output wire       SDO,
    input  wire       SDI,
    input  wire       SCLK
);
    initial begin
        if (FEEDBACK_PATH != "SIMPLE") begin
            $display("SB_PLL40_PAD model: only FEEDBACK_PATH \"SIMPLE\" is modelled");
            $finish;
        end
    end

    wire unused = &{1'b0, EXTFEEDBACK, DYNAMICDELAY, LATCHINPUTVALUE, SDI, SCLK};
    assign SDO = 1'b0;

    realtime t_last = 0.0;
    realtime ref_period = 0.0;    // measured reference period
    integer  ref_edges = 0;       // rising reference edges since the output started
    reg      running = 1'b0;
    reg      out = 1'b0;

    always @(posedge PACKAGEPIN) begin
        if (!RESETB) begin
            ref_edges = 0;
            running   = 1'b0;
            LOCK      = 1'b0;
        end else begin
            if (t_last > 0.0) ref_period = $realtime - t_last;
            t_last = $realtime;
            if (ref_period > 0.0) begin
                running = 1'b1;
                ref_edges = ref_edges + 1;
            end
        end
    end

    initial LOCK = 1'b0;
    always @(posedge PACKAGEPIN) if (RESETB && !BYPASS && running && ref_edges >= LOCK_CYCLES) LOCK <= 1'b1;

    // output: half a period of ref_period * (DIVR + 1) * 2^DIVQ / (DIVF + 1)
    realtime half;
    always begin
        wait (running);
        half = ref_period * (DIVR + 1) * (1 << DIVQ) / (DIVF + 1) / 2.0;
        // the delay comes from the measured reference (never 0 once running)
        /* verilator lint_off ZERODLY */
        #(half) out = ~out;
        /* verilator lint_on ZERODLY */
        if (!running) out = 1'b0;
    end

    assign PLLOUTCORE   = BYPASS ? PACKAGEPIN : out;
    assign PLLOUTGLOBAL = PLLOUTCORE;
endmodule

`default_nettype wire
