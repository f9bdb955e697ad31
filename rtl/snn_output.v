// snn_output: the output layer of snn_engine: scores, output biases, argmax, output register.
//
// A spike of hidden neuron j at any step adds output-weight column j (one word of the W1 table,
// the N_OUT codes of column j) into the N_OUT scores (docs/arithmetic.md section 5). The table
// has one copy per lane (ram_sdp, one read port each): col_re/col_j read columns
// col_j .. col_j+P_LIF-1, and one cycle later sp_valid/sp_spike say which of them fired; the
// fired lanes' codes are summed into every score at once. Integer sums that the contract's
// score width holds, so the order of the spikes does not matter.
//
// clear (the cycle an image starts) sets the scores to T * b (output biases, HAS_BIAS = 1) or
// 0. start (the cycle after the last spike) runs the argmax: two cycles per score (select;
// compare with the best so far), strictly greater replaces (ties keep the lowest index),
// 2 * N_OUT + 1 cycles; then the class and scores enter the output register as soon as it
// is free (m_valid low or m_ready high). busy is high from the cycle after start to the cycle
// the result enters the output register, except while it waits for that register; done is
// high in that last cycle.
`default_nettype none

module snn_output #(
    parameter N_HID    = 128,  // hidden neurons (columns)
    parameter N_OUT    = 10,   // outputs
    parameter T        = 16,   // time steps (the output bias counts T times)
    parameter CODE_W1  = 2,    // code width: 1 binary, 2 ternary, 4, 8, 16
    parameter SCORE_W  = 13,   // score width
    parameter P_LIF    = 1,    // columns per beat
    parameter HAS_BIAS = 0,    // 1: output biases
    parameter W1_FILE  = "",   // weight image ($readmemh, N_HID words of N_OUT*CODE_W1 bits)
    parameter B1_FILE  = ""    // output biases ($readmemh, N_OUT words of SCORE_W bits)
) (
    input  wire                       clk,
    input  wire                       rst,
    // weight write port: word w1_addr = the N_OUT codes of column w1_addr, into every copy
    input  wire                       w1_we,
    input  wire [((N_HID > 2) ? $clog2(N_HID) : 1)-1:0] w1_addr,
    input  wire [N_OUT*CODE_W1-1:0]   w1_data,
    // output-bias write port (HAS_BIAS = 1), from the next image on
    input  wire                       ob_we,
    input  wire [((N_OUT > 2) ? $clog2(N_OUT) : 1)-1:0] ob_addr,
    input  wire [SCORE_W-1:0]         ob_data,
    // scores
    input  wire                       clear,
    input  wire                       col_re,
    input  wire [((N_HID > 2) ? $clog2(N_HID) : 1)-1:0] col_j,
    input  wire                       sp_valid,
    input  wire [P_LIF-1:0]           sp_spike,
    // readout
    input  wire                       start,
    output wire                       busy,
    output wire                       done,
    output wire                       m_valid,
    input  wire                       m_ready,
    output wire [((N_OUT > 2) ? $clog2(N_OUT) : 1)-1:0] m_class,
    output wire [N_OUT*SCORE_W-1:0]   m_scores
);

    localparam HID_AW    = (N_HID > 2) ? $clog2(N_HID) : 1;
    localparam CLS_W     = (N_OUT > 2) ? $clog2(N_OUT) : 1;
    localparam OSEL_W    = CLS_W;
    localparam W1_DATA_W = N_OUT * CODE_W1;
    localparam integer      O_LAST_I = N_OUT - 1;
    localparam [OSEL_W-1:0] O_LAST   = O_LAST_I[OSEL_W-1:0];
    localparam LO_W = SCORE_W / 2;               // argmax comparison: lower half (unsigned), the rest signed

    // ------------------------------------------------------------ weights
    wire [P_LIF*W1_DATA_W-1:0] w1_rdata;
    genvar q;
    generate
        for (q = 0; q < P_LIF; q = q + 1) begin : g_w1
            localparam integer      Q_I = q;
            localparam [HID_AW-1:0] Q_J = Q_I[HID_AW-1:0];
            ram_sdp #(.DATA_W(W1_DATA_W), .DEPTH(N_HID), .INIT_FILE(W1_FILE)) u_w1 (
                .clk(clk), .we(w1_we), .waddr(w1_addr), .wdata(w1_data),
                .re(col_re), .raddr(col_j | Q_J), .rdata(w1_rdata[q*W1_DATA_W +: W1_DATA_W])
            );
        end
    endgenerate

    // ------------------------------------------------------------ output biases
    wire [N_OUT*SCORE_W-1:0] ob_flat;
    genvar ob_i;
    generate
        if (HAS_BIAS != 0) begin : g_ob
            reg [SCORE_W-1:0] ob_mem [0:N_OUT-1];
            if (B1_FILE != "") begin : g_init
                initial $readmemh(B1_FILE, ob_mem);
            end
            always @(posedge clk)
                if (ob_we) ob_mem[ob_addr] <= ob_data;
            for (ob_i = 0; ob_i < N_OUT; ob_i = ob_i + 1) begin : g_rd
                assign ob_flat[ob_i*SCORE_W +: SCORE_W] = ob_mem[ob_i];
            end
        end else begin : g_noob
            assign ob_flat = {(N_OUT*SCORE_W){1'b0}};
            wire unused_ob = &{ob_we, ob_addr, ob_data, ob_flat, 1'b0};
        end
    endgenerate

    // ------------------------------------------------------------ scores
    wire [N_OUT*SCORE_W-1:0] scores;
    genvar o, k;
    generate
        for (o = 0; o < N_OUT; o = o + 1) begin : g_out
            reg  signed [SCORE_W-1:0] score_q;
            wire [P_LIF*SCORE_W-1:0]  addend;  // lane k's gated code for output o
            wire [P_LIF*SCORE_W-1:0]  partial; // running sum over lanes 0..k
            for (k = 0; k < P_LIF; k = k + 1) begin : g_lane
                wire [CODE_W1-1:0] c = w1_rdata[k*W1_DATA_W + o*CODE_W1 +: CODE_W1];
                wire [SCORE_W-1:0] val;
                if (CODE_W1 == 1) begin : g_bin
                    assign val = {{(SCORE_W-1){c[0]}}, 1'b1};  // 0 -> +1, 1 -> -1
                end else begin : g_tc
                    assign val = {{(SCORE_W-CODE_W1){c[CODE_W1-1]}}, c};
                end
                assign addend[k*SCORE_W +: SCORE_W] = sp_spike[k] ? val : {SCORE_W{1'b0}};
                if (k == 0) begin : g_first
                    assign partial[SCORE_W-1:0] = addend[SCORE_W-1:0];
                end else begin : g_next
                    assign partial[k*SCORE_W +: SCORE_W] = partial[(k-1)*SCORE_W +: SCORE_W]
                                                         + addend[k*SCORE_W +: SCORE_W];
                end
            end
            if (HAS_BIAS != 0) begin : g_obias
                // the output bias counts at every step (docs/arithmetic.md section 5)
                localparam [SCORE_W-1:0] T_S = T;
                wire [SCORE_W-1:0] ob = ob_flat[o*SCORE_W +: SCORE_W];
                always @(posedge clk)
                    if (rst) score_q <= {SCORE_W{1'b0}};
                    else if (clear) score_q <= ob * T_S;
                    else if (sp_valid & (|sp_spike))
                        score_q <= score_q + partial[(P_LIF-1)*SCORE_W +: SCORE_W];
            end else begin : g_nobias
                always @(posedge clk)
                    if (rst | clear) score_q <= {SCORE_W{1'b0}};
                    else if (sp_valid & (|sp_spike))
                        score_q <= score_q + partial[(P_LIF-1)*SCORE_W +: SCORE_W];
            end
            assign scores[o*SCORE_W +: SCORE_W] = score_q;
        end
    endgenerate

    // ------------------------------------------------------------ argmax and output register
    // Two cycles per score: phase 0 selects score arg_q into cand_q (and moves the candidate
    // before it into best_q/cls_q if it won); phase 1 compares cand_q with best_q, in two
    // halves side by side (signed upper half greater or equal, unsigned lower half greater:
    // two short carry chains between registers), into registered flags that decide the win
    // at the next phase 0 (strictly greater; score 0 always wins). 2 * N_OUT + 1 cycles.
    // The "upper halves equal" flag is an equality (a LUT tree) up to 8 bits; a wider upper
    // half (scores of more than 16 bits) takes "upper half greater or equal" from a third
    // carry chain instead (the 10-bit equality of q8's 20-bit scores was 6 LUT levels deep),
    // which decides the same: greater = hi_gt | (hi_ge & lo_gt).
    localparam [1:0] A_IDLE = 2'd0, A_ARG = 2'd1, A_OUT = 2'd2;
    reg  [1:0]                state_q;
    reg  [OSEL_W-1:0]         arg_q;        // score being selected / compared
    reg                       ph_q;         // phase 1: compare
    reg                       first_q;      // score 0 is the candidate
    reg                       last_q;       // the last score has been compared
    reg                       cv_q;         // the flags below hold the candidate's comparison
    reg                       f1_q;         // ... which is score 0 (always wins)
    reg                       hi_gt_q;      // upper half of cand_q > that of best_q (signed)
    reg                       hi_eq_q;      // upper halves equal (wider than 8 bits: upper half >=)
    reg                       lo_gt_q;      // lower half of cand_q > that of best_q (unsigned)
    wire                      win = cv_q & (f1_q | hi_gt_q | (hi_eq_q & lo_gt_q));
    reg  signed [SCORE_W-1:0] cand_q, best_q;
    wire                      hi_eq_d;
    generate
        if (SCORE_W - LO_W > 8) begin : g_hi_ge
            assign hi_eq_d = $signed(cand_q[SCORE_W-1:LO_W]) >= $signed(best_q[SCORE_W-1:LO_W]);
        end else begin : g_hi_eq
            assign hi_eq_d = cand_q[SCORE_W-1:LO_W] == best_q[SCORE_W-1:LO_W];
        end
    endgenerate
    reg  [CLS_W-1:0]          cidx_q, cls_q;
    reg                       out_valid_q;
    reg  [CLS_W-1:0]          out_cls_q;
    reg  [N_OUT*SCORE_W-1:0]  out_scores_q;
    wire                      out_free = ~out_valid_q | m_ready;

    always @(posedge clk) begin
        if (rst) begin
            state_q     <= A_IDLE;
            out_valid_q <= 1'b0;
            arg_q       <= {OSEL_W{1'b0}};
            ph_q        <= 1'b0;
            first_q     <= 1'b0;
            last_q      <= 1'b0;
            cv_q        <= 1'b0;
        end else begin
            if (out_valid_q & m_ready) out_valid_q <= 1'b0;
            case (state_q)
                A_IDLE: if (start) begin
                    state_q <= A_ARG;
                    arg_q   <= {OSEL_W{1'b0}};
                    ph_q    <= 1'b0;
                    first_q <= 1'b1;
                    last_q  <= 1'b0;
                    cv_q    <= 1'b0;
                end
                A_ARG: begin
                    ph_q <= ~ph_q;
                    if (~ph_q) begin
                        cv_q <= 1'b0;
                        if (last_q) state_q <= A_OUT;
                    end else begin
                        cv_q    <= 1'b1;
                        first_q <= 1'b0;
                        if (arg_q == O_LAST) last_q <= 1'b1;
                        else arg_q <= arg_q + 1'b1;
                    end
                end
                A_OUT: if (out_free) begin
                    state_q     <= A_IDLE;
                    out_valid_q <= 1'b1;
                end
                default: state_q <= A_IDLE;
            endcase
        end
    end

    always @(posedge clk) begin
        if (~ph_q) begin
            cand_q <= scores[arg_q*SCORE_W +: SCORE_W];
            cidx_q <= arg_q[CLS_W-1:0];
            if (win) begin
                best_q <= cand_q;
                cls_q  <= cidx_q;
            end
        end else begin
            f1_q    <= first_q;
            hi_gt_q <= $signed(cand_q[SCORE_W-1:LO_W]) > $signed(best_q[SCORE_W-1:LO_W]);
            hi_eq_q <= hi_eq_d;
            lo_gt_q <= cand_q[LO_W-1:0] > best_q[LO_W-1:0];
        end
        if (state_q == A_OUT && out_free) begin
            out_cls_q    <= cls_q;
            out_scores_q <= scores;
        end
    end

    assign busy     = (state_q == A_ARG) | ((state_q == A_OUT) & out_free);
    assign done     = (state_q == A_OUT) & out_free;
    assign m_valid  = out_valid_q;
    assign m_class  = out_cls_q;
    assign m_scores = out_scores_q;

endmodule

`default_nettype wire
