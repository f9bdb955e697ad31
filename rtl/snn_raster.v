// snn_raster: the spike raster between two hidden layers (docs/engine.md, "Hidden layers l >= 1").
//
// Layer l-1 writes its spikes, layer l reads them as events. Two buffers ping-pong in one
// EBR-inferable ram_sdp (address {buffer, t, g}): writes go to buffer `sel`, scans read
// buffer `~sel`, so a layer reads its input layer's raster while writing its own.
//
// Write side. A word holds the spikes of one group of LANES neurons at one time step. Spike
// beats of P_IN bits arrive in the engine's group-major order: for each group g, for each
// step t = 0..T-1, the LANES neurons of g in ascending order, P_IN at a time (bit p of a beat
// is neuron g*LANES + c*P_IN + p in chunk c). Every LANES/P_IN beats the packed word is
// written to (t, g); the counters step t, then g. w_start (a layer begins) clears them.
//
// Scan side. scan_start (only while scan_busy is low) with scan_t and scan_groups reads the
// words (scan_t, 0 .. scan_groups-1) and emits, on m_valid/m_ready, the index g*LANES + lane
// of every set bit, in ascending order: one cycle per set bit, one per word without any, and
// two to start (the first read, and loading the first word). done is high for one cycle:
// the cycle in which the last index is accepted, or for a row without spikes the cycle after
// its last word was examined. With m_ready held high, done comes
//     2 + sum over the words of max(1, popcount(word))
// cycles after scan_start (icespike.rtlsim.raster_scan_cycles). The next word is read while
// the current one is emitted, so a word costs no read cycle of its own.
//
// Each RAM word stores its popcount beside its LANES bits (counted on the write side as the
// beats arrive). The scan counts a word's bits down from it, so "this cycle finishes the word"
// (at most one set bit left) is a registered flag set from the stored count or from the
// count register: no popcount or bit tree lies between the RAM output and the scan's control.
`default_nettype none

module snn_raster #(
    parameter LANES  = 16,   // neurons per word (group size), a power of 2 >= 2
    parameter P_IN   = 1,    // spike bits per write beat, a power of 2 dividing LANES
    parameter T      = 16,   // time steps (rows of a raster)
    parameter N_MAX  = 256,  // neurons of the largest layer the raster holds
    // derived
    parameter G_MAX  = (N_MAX + LANES - 1) / LANES,           // words per row
    parameter G_AW   = (G_MAX > 1) ? $clog2(G_MAX) : 1,       // group index bits
    parameter GC_W   = $clog2(G_MAX + 1),                     // group count bits (0..G_MAX)
    parameter T_AW   = (T > 1) ? $clog2(T) : 1,               // time-step bits
    parameter LANE_W = $clog2(LANES),                         // lane index bits
    parameter IDX_W  = G_AW + LANE_W                          // neuron index bits
) (
    input  wire              clk,
    input  wire              rst,          // synchronous, active high
    input  wire              sel,          // buffer written; scans read the other one
    // spike beats of the layer being computed
    input  wire              w_start,      // a layer begins: write counters to (g 0, t 0, chunk 0)
    input  wire              w_valid,
    input  wire [P_IN-1:0]   w_bits,
    // scan of one row of the other buffer
    input  wire              scan_start,
    input  wire [T_AW-1:0]   scan_t,
    input  wire [GC_W-1:0]   scan_groups,  // words in the row, 1 .. G_MAX
    output reg               scan_busy,
    output reg               m_valid,
    input  wire              m_ready,
    output reg  [IDX_W-1:0]  m_idx,
    output wire              done
);

    localparam CHUNKS = LANES / P_IN;
    localparam C_W    = (CHUNKS > 1) ? $clog2(CHUNKS) : 1;
    localparam ADDR_W = 1 + T_AW + G_AW;
    localparam PC_W   = LANE_W + 1;                             // a word's popcount, 0 .. LANES
    localparam PB_W   = $clog2(P_IN + 1);                       // a beat's popcount, 0 .. P_IN
    // sized constants as part-selects of 32-bit copies (no width warnings in comparisons)
    localparam integer T_LAST_I = T - 1;
    localparam integer C_LAST_I = CHUNKS - 1;
    localparam integer ONE_I    = 1;
    localparam [T_AW-1:0] T_LAST = T_LAST_I[T_AW-1:0];
    localparam [C_W-1:0]  C_LAST = C_LAST_I[C_W-1:0];
    localparam [GC_W-1:0] ONE_G  = ONE_I[GC_W-1:0];
    localparam [PC_W-1:0] ONE_C  = ONE_I[PC_W-1:0];
    localparam [PC_W-1:0] TWO_C  = ONE_C + ONE_C;

`ifndef SYNTHESIS
    initial begin
        if (LANES < 2 || (LANES & (LANES - 1)) != 0) begin
            $display("snn_raster: LANES must be a power of 2 >= 2, got %0d", LANES); $finish;
        end
        if (P_IN < 1 || (P_IN & (P_IN - 1)) != 0 || P_IN > LANES) begin
            $display("snn_raster: P_IN must be a power of 2 <= LANES, got %0d", P_IN); $finish;
        end
        if (T < 1 || N_MAX < 1) begin
            $display("snn_raster: T and N_MAX must be >= 1, got %0d, %0d", T, N_MAX); $finish;
        end
    end
`endif

    // ------------------------------------------------------------------ write side
    reg  [C_W-1:0]   wc_q;      // chunk of the word being packed
    reg  [T_AW-1:0]  wt_q;
    reg  [G_AW-1:0]  wg_q;
    wire [LANES-1:0] pack_d;    // the word with this beat's bits on top
    generate
        if (CHUNKS > 1) begin : g_pack
            // earlier beats of the word; beats shift in from the top, so chunk 0 ends at bit 0
            reg [LANES-P_IN-1:0] pack_q;
            assign pack_d = {w_bits, pack_q};
            always @(posedge clk)
                if (w_valid) pack_q <= pack_d[LANES-1:P_IN];
        end else begin : g_word
            assign pack_d = w_bits;
        end
    endgenerate
    wire             w_last = (CHUNKS == 1) || (wc_q == C_LAST);
    wire             ram_we = w_valid & w_last;

    // popcount of the word: the earlier beats' count (pc_q) plus this beat's
    reg  [PB_W-1:0]  pb;
    integer b;
    always @* begin
        pb = {PB_W{1'b0}};
        for (b = 0; b < P_IN; b = b + 1) pb = pb + {{(PB_W - 1){1'b0}}, w_bits[b]};
    end
    reg  [PC_W-1:0]  pc_q;
    wire [PC_W+PB_W-1:0] pc_w = {{PB_W{1'b0}}, pc_q} + {{PC_W{1'b0}}, pb};
    wire [PC_W-1:0]  pc_d = pc_w[PC_W-1:0];     // at most LANES: fits
    wire             unused_pc = &{pc_w, 1'b0};

    always @(posedge clk) begin
        if (rst || w_start) begin
            pc_q <= {PC_W{1'b0}};
            wc_q <= {C_W{1'b0}};
            wt_q <= {T_AW{1'b0}};
            wg_q <= {G_AW{1'b0}};
        end else if (w_valid) begin
            pc_q <= w_last ? {PC_W{1'b0}} : pc_d;
            wc_q <= w_last ? {C_W{1'b0}} : wc_q + 1'b1;
            if (w_last) begin
                if (wt_q == T_LAST) begin
                    wt_q <= {T_AW{1'b0}};
                    wg_q <= wg_q + 1'b1;
                end else begin
                    wt_q <= wt_q + 1'b1;
                end
            end
        end
    end

    // ------------------------------------------------------------------ scan side
    reg  [T_AW-1:0]  st_q;      // row being scanned
    reg  [GC_W-1:0]  sn_q;      // its word count
    reg  [GC_W-1:0]  rd_g_q;    // next word to read
    reg  [GC_W-1:0]  ld_g_q;    // word in rdata, the next to load
    reg  [G_AW-1:0]  w_g_q;     // word in w_q
    reg  [LANES-1:0] w_q;       // bits of the current word not yet emitted
    reg  [PC_W-1:0]  c_q;       // how many (popcount of w_q)
    reg              fin_q;     // every word examined; waiting for the last index to leave
    reg              w_end_q;   // c_q <= 1: this cycle finishes the word
    wire [PC_W+LANES-1:0] rword;
    wire [LANES-1:0] rdata = rword[LANES-1:0];
    wire [PC_W-1:0]  rcount = rword[PC_W+LANES-1:LANES];   // popcount of rdata, from the write side

    // lowest set bit of w_q
    reg  [LANE_W-1:0] low;
    integer k;
    always @* begin
        low = {LANE_W{1'b0}};
        for (k = LANES - 1; k >= 0; k = k - 1)
            if (w_q[k]) low = k[LANE_W-1:0];
    end

    reg  [LANES-1:0] w_rest_q;  // w_q without its lowest set bit (registered beside w_q)
    wire [LANES-1:0] w_rest2 = w_rest_q & (w_rest_q - 1'b1);
    wire [LANES-1:0] r_rest  = rdata & (rdata - 1'b1);
    // every path starts at a register or the RAM's output and has at most one carry chain
    wire             adv    = ~m_valid | m_ready;   // the output register can take a beat
    wire             work   = scan_busy & ~fin_q & adv;
    // registered (from the word written into w_q), so no carry chain drives the enables and the
    // next read's address
    wire             w_end  = w_end_q;
    reg              ld_more_q; // ld_g_q != sn_q: a word is waiting in rdata (registered)
    reg              rd_more_q; // rd_g_q != sn_q: a word is left to read (registered)
    wire             more   = ld_more_q;
    wire             go     = scan_start & ~scan_busy;
    wire             re_nxt = work & w_end & more & rd_more_q;
    wire             re     = go | re_nxt;
    wire [ADDR_W-1:0] raddr = go ? {~sel, scan_t, {G_AW{1'b0}}}
                                 : {~sel, st_q, rd_g_q[G_AW-1:0]};

    assign done = scan_busy & fin_q & adv;

    always @(posedge clk) begin
        if (rst) begin
            scan_busy <= 1'b0;
            fin_q     <= 1'b0;
            m_valid   <= 1'b0;
        end else if (go) begin
            scan_busy <= 1'b1;
            fin_q     <= 1'b0;
            st_q      <= scan_t;
            sn_q      <= scan_groups;
            rd_g_q    <= ONE_G;
            ld_g_q    <= {GC_W{1'b0}};
            ld_more_q <= 1'b1;                        // scan_groups >= 1
            rd_more_q <= (scan_groups != ONE_G);
            w_q       <= {LANES{1'b0}};  // an empty word "before" word 0: the first cycle loads it
            w_rest_q  <= {LANES{1'b0}};
            c_q       <= {PC_W{1'b0}};
            w_end_q   <= 1'b1;
        end else if (done) begin
            scan_busy <= 1'b0;
            fin_q     <= 1'b0;
            m_valid   <= 1'b0;
        end else if (work) begin
            m_valid <= (w_q != {LANES{1'b0}});
            m_idx   <= {w_g_q, low};
            if (w_end) begin
                if (more) begin
                    w_q      <= rdata;
                    w_rest_q <= r_rest;
                    c_q      <= rcount;
                    w_end_q  <= (rcount <= ONE_C);
                    w_g_q   <= ld_g_q[G_AW-1:0];
                    ld_g_q  <= ld_g_q + 1'b1;
                    ld_more_q <= (ld_g_q + 1'b1 != sn_q);
                end else begin
                    w_q      <= {LANES{1'b0}};
                    w_rest_q <= {LANES{1'b0}};
                    c_q      <= {PC_W{1'b0}};
                    w_end_q  <= 1'b1;
                    fin_q    <= 1'b1;
                end
            end else begin
                w_q      <= w_rest_q;
                w_rest_q <= w_rest2;
                c_q      <= c_q - ONE_C;
                w_end_q  <= (c_q == TWO_C);   // two bits left before this one: one after
            end
            if (re_nxt) begin
                rd_g_q    <= rd_g_q + 1'b1;
                rd_more_q <= (rd_g_q + 1'b1 != sn_q);
            end
        end else if (adv) begin
            m_valid <= 1'b0;
        end
    end

    ram_sdp #(
        .DATA_W(PC_W + LANES),
        .DEPTH (1 << ADDR_W)
    ) u_ram (
        .clk  (clk),
        .we   (ram_we),
        .waddr({sel, wt_q, wg_q}),
        .wdata({pc_d, pack_d}),
        .re   (re),
        .raddr(raddr),
        .rdata(rword)
    );

endmodule

`default_nettype wire
