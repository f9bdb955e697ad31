// tb_engine: file-driven testbench of snn_engine for Icarus and `verilator --binary` (no Python
// per cycle). Reads +nimg=N images of N_IN pixels from +images=FILE (one hex byte per line),
// streams them back to back into the engine, and writes one line per result to +results=FILE:
//     <class> <cycles> <score 0> ... <score N_OUT-1>
// where <cycles> is the number of cycles `busy` was high for that image. A final line
// "# total_cycles <n>" gives the clock cycles from reset release to the last result.
// +gap=PCT / +bp=PCT (0..99) insert random idle cycles on the input and hold m_ready low
// (seeded by +seed=S); cycle counts do not depend on them (docs/engine.md section 4).
`timescale 1ns / 1ps
`default_nettype none

module tb_engine;
    parameter N_IN           = 784;
    parameter N_HID          = 128;
    parameter N_OUT          = 10;
    parameter T              = 16;
    parameter CODE_W0        = 2;
    parameter CODE_W1        = 2;
    parameter ACC_W          = 19;
    parameter MEM_W          = 21;
    parameter SCORE_W        = 13;
    parameter [63:0] THRESHOLD = 64'd1000;
    parameter LEAK_SHIFT     = 4;
    parameter RESET_SUBTRACT = 1;
    parameter P_LIF          = 1;
    parameter LANES          = 0;      // engine accumulation lanes (0: the engine's default)
    parameter FIFO_DEPTH     = 1024;
    parameter W0_SPRAM       = 1;
    parameter W0_FILE        = "";
    parameter W1_FILE        = "";
    parameter HAS_BIAS       = 0;
    parameter B0_FILE        = "";
    parameter B1_FILE        = "";
    parameter MAX_CYCLES     = 2000000000;
    // hidden layers 1..3 (docs/engine.md section 1), forwarded to the engine
    parameter N_LAYERS       = 1;
    parameter [47:0]  N_HID_L          = 48'd0;
    parameter [23:0]  ACC_W_L          = 24'd0;
    parameter [23:0]  MEM_W_L          = 24'd0;
    parameter [191:0] THRESHOLD_L      = 192'd0;
    parameter [23:0]  LEAK_SHIFT_L     = 24'd0;
    parameter [2:0]   RESET_SUBTRACT_L = 3'd0;
    // port widths of a deeper engine (icespike.rtlsim passes them; the defaults: one layer)
    parameter TB_W0_AW  = (N_IN * ((N_HID + 64 / CODE_W0 - 1) / (64 / CODE_W0)) > 2) ?
                          $clog2(N_IN * ((N_HID + 64 / CODE_W0 - 1) / (64 / CODE_W0))) : 1;
    parameter TB_HID_AW = (N_HID > 2) ? $clog2(N_HID) : 1;
    parameter TB_MEM_W  = MEM_W;

    // Run-time options (plusargs): +images=FILE +results=FILE +nimg=N +gap=PCT +bp=PCT +seed=S
    reg [8*1024-1:0] images_file;
    reg [8*1024-1:0] results_file;
    integer nimg;
    integer gap_pct;
    integer bp_pct;

    localparam CLS_W  = (N_OUT > 2) ? $clog2(N_OUT) : 1;
    localparam HID_AW = TB_HID_AW;
    localparam W0_AW  = TB_W0_AW;
    localparam B_AW   = (N_HID + N_OUT > 2) ? $clog2(N_HID + N_OUT) : 1;

    reg clk;
    initial clk = 1'b0;
    always #5 clk = ~clk;
    reg rst = 1'b1;

    integer    npix;          // pixels in all images
    integer    pidx;          // index of the pixel on s_data
    integer    fin;
    integer    rc;
    reg  [7:0] cur_pix;       // pixel on s_data (driven with non-blocking assignments)
    reg  [7:0] rd_pix;        // the pixel next_pixel read from the file
    integer    nres;          // results received
    integer    ndone;         // busy periods finished
    integer    busy_cnt;
    integer    cycle;
    integer    fd;
    integer    seed;
    integer    o;
    reg        gap;
    reg        bp;
    reg [31:0] cyc [0:15];     // busy counts of finished images not yet reported
    reg        busy_d;

    wire                     s_ready, m_valid, busy;
    wire [CLS_W-1:0]         m_class;
    wire [N_OUT*SCORE_W-1:0] m_scores;
    wire                     trace_valid;
    wire [P_LIF-1:0]         trace_spike;
    wire [7:0]               trace_t;
    wire [HID_AW-1:0]        trace_n;
    wire [P_LIF*TB_MEM_W-1:0] trace_v;
    wire [1:0]               trace_layer;
    wire                     s_valid = ~rst & (pidx < npix) & ~gap;
    wire [7:0]               s_data  = cur_pix;
    wire                     m_ready = ~bp;
    // scores as signed values for $fwrite: a signed wire per output (Verilator 5.48 prints
    // $signed() of a part-select with garbage upper bits for positive values)
    wire signed [SCORE_W-1:0] score [0:N_OUT-1];
    genvar go;
    generate
        for (go = 0; go < N_OUT; go = go + 1) begin : g_score
            assign score[go] = m_scores[go*SCORE_W +: SCORE_W];
        end
    endgenerate
    // the trace port is for the cocotb tests; this harness checks results only
    wire unused_trace = &{1'b0, trace_valid, trace_spike, trace_t, trace_n, trace_v, trace_layer};

    snn_engine #(
        .N_IN(N_IN), .N_HID(N_HID), .N_OUT(N_OUT), .T(T), .CODE_W0(CODE_W0), .CODE_W1(CODE_W1),
        .ACC_W(ACC_W), .MEM_W(MEM_W), .SCORE_W(SCORE_W), .THRESHOLD(THRESHOLD),
        .LEAK_SHIFT(LEAK_SHIFT), .RESET_SUBTRACT(RESET_SUBTRACT), .P_LIF(P_LIF), .LANES(LANES), .FIFO_DEPTH(FIFO_DEPTH),
        .W0_SPRAM(W0_SPRAM), .W0_FILE(W0_FILE), .W1_FILE(W1_FILE),
        .HAS_BIAS(HAS_BIAS), .B0_FILE(B0_FILE), .B1_FILE(B1_FILE),
        .N_LAYERS(N_LAYERS), .N_HID_L(N_HID_L), .ACC_W_L(ACC_W_L), .MEM_W_L(MEM_W_L),
        .THRESHOLD_L(THRESHOLD_L), .LEAK_SHIFT_L(LEAK_SHIFT_L), .RESET_SUBTRACT_L(RESET_SUBTRACT_L)
    ) dut (
        .clk(clk), .rst(rst),
        .s_valid(s_valid), .s_ready(s_ready), .s_data(s_data),
        .m_valid(m_valid), .m_ready(m_ready), .m_class(m_class), .m_scores(m_scores),
        .w_we(1'b0), .w_addr({W0_AW{1'b0}}), .w_data(64'd0),
        .w1_we(1'b0), .w1_addr({HID_AW{1'b0}}), .w1_data({(N_OUT*CODE_W1){1'b0}}),
        .b_we(1'b0), .b_addr({B_AW{1'b0}}), .b_data(64'd0),
        .busy(busy),
        .trace_valid(trace_valid), .trace_t(trace_t), .trace_n(trace_n),
        .trace_spike(trace_spike), .trace_v(trace_v), .trace_layer(trace_layer)
    );

    task next_pixel;
        begin
            rc = $fscanf(fin, "%h", rd_pix);
            if (rc != 1) begin
                $display("tb_engine: %0s ends after %0d pixels, %0d expected", images_file, pidx, npix);
                $finish;
            end
        end
    endtask

    initial begin
        if (!$value$plusargs("images=%s", images_file)) images_file = "images.hex";
        if (!$value$plusargs("results=%s", results_file)) results_file = "results.txt";
        if (!$value$plusargs("nimg=%d", nimg)) nimg = 1;
        if (!$value$plusargs("gap=%d", gap_pct)) gap_pct = 0;
        if (!$value$plusargs("bp=%d", bp_pct)) bp_pct = 0;
        if (!$value$plusargs("seed=%d", seed)) seed = 1;
        npix = nimg * N_IN;
        fin = $fopen(images_file, "r");
        fd = $fopen(results_file, "w");
        if (fin == 0 || fd == 0) begin
            $display("tb_engine: cannot open %0s or %0s", images_file, results_file);
            $finish;
        end
        pidx = 0; nres = 0; ndone = 0; busy_cnt = 0; cycle = 0;
        gap = 1'b0; bp = 1'b0; busy_d = 1'b0;
        next_pixel;
        cur_pix = rd_pix;
        repeat (3) @(posedge clk);
        @(negedge clk) rst = 1'b0;  // away from the edge: the engine sees it at the next one
    end

    always @(posedge clk) begin
        if (!rst) begin
            cycle <= cycle + 1;
            // every signal the engine samples changes with non-blocking assignments only, so
            // the engine sees this edge's values whatever the simulator's event order
            if (s_valid && s_ready) begin
                pidx <= pidx + 1;
                if (pidx + 1 < npix) begin
                    next_pixel;
                    cur_pix <= rd_pix;
                end
            end
            gap <= (gap_pct > 0) ? (($random(seed) % 100 + 100) % 100 < gap_pct) : 1'b0;
            bp  <= (bp_pct > 0) ? (($random(seed) % 100 + 100) % 100 < bp_pct) : 1'b0;
            busy_d <= busy;
            if (busy) busy_cnt <= busy_cnt + 1;
            if (busy_d && !busy) begin
                cyc[ndone % 16] <= busy_cnt;
                ndone <= ndone + 1;
                busy_cnt <= busy ? 1 : 0;
            end
            if (m_valid && m_ready) begin
                // the busy period of this result may end in this very cycle
                $fwrite(fd, "%0d %0d", m_class, (nres == ndone) ? busy_cnt : cyc[nres % 16]);
                for (o = 0; o < N_OUT; o = o + 1)
                    $fwrite(fd, " %0d", score[o]);
                $fwrite(fd, "\n");
                nres <= nres + 1;
                if ((nres + 1) % 250 == 0) begin
                    $display("progress %0d", nres + 1);
                    $fflush;
                end
                if (nres + 1 == nimg) begin
                    $fwrite(fd, "# total_cycles %0d\n", cycle + 1);
                    $fclose(fd);
                    $finish;
                end
            end
            if (cycle >= MAX_CYCLES) begin
                $fwrite(fd, "# timeout after %0d cycles\n", cycle);
                $fclose(fd);
                $finish;
            end
        end
    end
endmodule

`default_nettype wire
